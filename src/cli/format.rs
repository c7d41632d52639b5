//! docker's `--format`: `json`, `table`, or a Go template (gtmpl) with docker's functions and
//! the `table` directive, whose column headers come from the row type's header names and whose
//! columns are aligned as docker's tabwriter aligns them.

use gtmpl::{Context, Template};
use serde::Serialize;
use serde_json::Value as Json;

use super::format_funcs::{self, to_gtmpl};
use super::format_print;
use super::table;
use crate::engine::EngineError;

/// What `--format` asked for.
pub enum Format {
    /// No format, or `table`: the command's own table (or text).
    Default,
    /// `json`: each object as JSON (lists: one a line).
    Json,
    /// A Go template; `table` when it started with the `table` directive.
    Template {
        template: Box<Template>,
        table: bool,
        source: String,
    },
}

impl Format {
    /// Parses a `--format` value. A template that does not parse is an error naming it and
    /// the problem (exit 125, as docker).
    pub fn parse(flag: Option<&str>) -> Result<Format, EngineError> {
        let Some(raw) = flag else {
            return Ok(Format::Default);
        };
        let text = raw.trim_matches(' ');
        match text {
            "" | "table" => return Ok(Format::Default),
            "json" => return Ok(Format::Json),
            _ => {}
        }
        // As docker: the escapes `\t` and `\n` written literally on a command line count.
        let text = text.replace("\\t", "\t").replace("\\n", "\n");
        let (table, body) = match text.strip_prefix("table") {
            Some(rest) if rest.starts_with([' ', '\t', '\n']) => (true, rest[1..].to_string()),
            _ => (false, text.clone()),
        };
        let mut template = Template::default();
        template.add_funcs(format_funcs::FUNCS);
        template.add_funcs(format_funcs::GO_PRINTING);
        template.parse(format_print::rewrite(&body)).map_err(|e| {
            EngineError::InvalidInput(format!(
                "template parsing error in --format {raw:?}: {e}: see the Go text/template syntax \
                 (e.g. '{{{{.ID}}}}\\t{{{{.Names}}}}')"
            ))
        })?;
        Ok(Format::Template {
            template: Box::new(template),
            table,
            source: raw.to_string(),
        })
    }

    /// Whether the command prints its own default output.
    pub fn is_default(&self) -> bool {
        matches!(self, Format::Default)
    }

    /// One object through the template (`inspect -f`, `version -f`), without a newline.
    /// `json` gives the object's JSON.
    pub fn render(&self, value: &Json) -> Result<String, EngineError> {
        match self {
            Format::Default | Format::Json => Ok(value.to_string()),
            Format::Template {
                template, source, ..
            } => execute(template, source, value),
        }
    }

    /// The text of a list of rows: `json` one object a line, a template one execution a line,
    /// a `table` template under the headers named in `headers` (field → header), aligned.
    pub fn list<T: Serialize>(
        &self,
        rows: &[T],
        headers: &[(&str, &str)],
    ) -> Result<String, EngineError> {
        let values: Vec<Json> = rows
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        let mut out = String::new();
        match self {
            Format::Default | Format::Json => {
                for v in &values {
                    out.push_str(&v.to_string());
                    out.push('\n');
                }
            }
            Format::Template {
                template,
                table: false,
                source,
            } => {
                for v in &values {
                    out.push_str(&execute(template, source, v)?);
                    out.push('\n');
                }
            }
            Format::Template {
                template,
                table: true,
                source,
            } => {
                let names: serde_json::Map<String, Json> = headers
                    .iter()
                    .map(|(k, h)| (k.to_string(), Json::String(h.to_string())))
                    .collect();
                // A header the row type does not know is left empty, as docker leaves it.
                let header = execute(template, source, &Json::Object(names))
                    .map(|h| h.replace("<no value>", ""))
                    .unwrap_or_default();
                let mut cells: Vec<Vec<String>> = header.lines().map(split_cells).collect();
                for v in &values {
                    let line = execute(template, source, v)?;
                    cells.extend(line.lines().map(split_cells));
                    if line.is_empty() {
                        cells.push(vec![String::new()]);
                    }
                }
                out.push_str(&table::render(&cells, table::LIST_MIN_WIDTH));
            }
        }
        Ok(out)
    }
}

fn split_cells(line: &str) -> Vec<String> {
    line.split('\t').map(String::from).collect()
}

/// Executes `template` on `value`; a failure names the template and the problem.
fn execute(template: &Template, source: &str, value: &Json) -> Result<String, EngineError> {
    // `{{json .}}` of the whole object keeps docker's field order.
    if source.trim() == "{{json .}}" {
        return Ok(value.to_string());
    }
    template
        .render(&Context::from(to_gtmpl(value, false)))
        .map_err(|e| {
            // gtmpl's missing-field error carries the whole object in Rust's debug form.
            let e = match e {
                gtmpl::error::ExecError::NoFiledFor(name, _) => {
                    format!("no field {name:?}")
                }
                other => other.to_string(),
            };
            EngineError::InvalidInput(format!(
                "template: --format {source:?} failed: {e}: name the fields the object has \
                 (see --format '{{{{json .}}}}')"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(format: &str, v: Json) -> String {
        Format::parse(Some(format)).unwrap().render(&v).unwrap()
    }

    #[test]
    fn docker_common_templates() {
        let v = json!({"Names": "web", "Status": "Up 1 second", "State": {"Running": true},
            "Mounts": [{"Source": "/a"}, {"Source": "/b"}],
            "Config": {"Labels": {"k": "v"}, "Env": ["A=1", "B=2"]}});
        assert_eq!(
            render("{{.Names}}\\t{{.Status}}", v.clone()),
            "web\tUp 1 second"
        );
        assert_eq!(render("{{.State.Running}}", v.clone()), "true");
        assert_eq!(
            render("{{range .Mounts}}{{.Source}}{{end}}", v.clone()),
            "/a/b"
        );
        assert_eq!(render("{{index .Config.Labels \"k\"}}", v.clone()), "v");
        assert_eq!(render("{{join .Config.Env \",\"}}", v.clone()), "A=1,B=2");
        assert_eq!(
            render("{{upper .Names}} {{title \"ab cd\"}}", v.clone()),
            "WEB Ab Cd"
        );
        assert_eq!(
            render("{{json .Config.Labels}}", v.clone()),
            "{\"k\":\"v\"}"
        );
        assert!(Format::parse(Some("{{.Names")).is_err());
        assert!(Format::parse(Some("{{nosuch .}}")).is_err());
        assert!(Format::parse(Some("{{.Nope}}"))
            .unwrap()
            .render(&v)
            .is_err());
    }

    #[test]
    fn table_directive_has_headers_and_aligned_columns() {
        #[derive(Serialize)]
        struct Row {
            #[serde(rename = "ID")]
            id: &'static str,
            #[serde(rename = "Image")]
            image: &'static str,
        }
        let f = Format::parse(Some("table {{.ID}}\t{{.Image}}")).unwrap();
        let rows = [Row {
            id: "abc",
            image: "busybox",
        }];
        let out = f
            .list(&rows, &[("ID", "CONTAINER ID"), ("Image", "IMAGE")])
            .unwrap();
        assert_eq!(out, "CONTAINER ID   IMAGE\nabc            busybox\n");
    }
}
