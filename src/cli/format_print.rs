//! Go's way of printing values in a template, which gtmpl does not follow: a list is `[a b]`, a
//! map `map[k:v]` with sorted keys, a struct `{v1 v2}`, nil `<nil>` (gtmpl prints Rust's debug
//! form). gtmpl prints an action's value with `Display`, which cannot be changed from outside,
//! so each printing action of a template is rewritten to end in `| _print`, which returns the
//! Go text. The same rewrite turns docker's `{{.Label "k"}}` method into `{{_label . "k"}}`.

use gtmpl::{FuncError, Value};

/// Go's `%v` of a template value. Structs (gtmpl objects) keep no field order, so their values
/// come in field-name order.
pub fn go_text(v: &Value) -> String {
    let mut out = String::new();
    write_go(&mut out, v);
    out
}

fn write_go(out: &mut String, v: &Value) {
    match v {
        Value::NoValue => out.push_str("<no value>"),
        Value::Nil => out.push_str("<nil>"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go(out, item);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_go(out, &m[*k]);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go(out, &o[*k]);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `_print V`: the Go text of the value an action prints.
pub fn print_value(args: &[Value]) -> Result<Value, FuncError> {
    match args {
        [v] => Ok(Value::String(go_text(v))),
        _ => Err(FuncError::ExactlyXArgs("_print".into(), 1)),
    }
}

/// Go's `print`: operands' texts, a space between two operands when neither is a string.
pub fn print(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        let is_str = |v: &Value| matches!(v, Value::String(_));
        if i > 0 && !is_str(v) && !is_str(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&go_text(v));
    }
    Ok(Value::String(out))
}

/// Go's `println`: operands' texts separated by spaces, then a newline.
pub fn println(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = args.iter().map(go_text).collect::<Vec<_>>().join(" ");
    out.push('\n');
    Ok(Value::String(out))
}

/// docker's `.Label "KEY"` on a list row: the label's value, or empty. Rows carry their labels
/// as docker prints them (`k=v,k2=v2`) or, in inspect objects, as a map.
pub fn label(args: &[Value]) -> Result<Value, FuncError> {
    let [row, Value::String(key)] = args else {
        return Err(FuncError::Generic(
            "Label takes one label name, as in {{.Label \"com.example.key\"}}".into(),
        ));
    };
    let labels = match row {
        Value::Object(o) | Value::Map(o) => o.get("Labels"),
        _ => None,
    };
    let found = match labels {
        Some(Value::Map(m)) | Some(Value::Object(m)) => m.get(key).map(go_text),
        Some(Value::String(s)) => s
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string()),
        _ => None,
    };
    Ok(Value::String(found.unwrap_or_default()))
}

/// Go template keywords whose actions print nothing.
const KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

/// Rewrites `template` so that every printing action ends in `| _print` and `.Label "k"`
/// becomes `_label . "k"`. Text outside actions, comments and control actions stay as they are.
pub fn rewrite(template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = action_end(after) else {
            // Unterminated: leave it for the parser to report.
            out.push_str(&rest[open..]);
            return out;
        };
        out.push_str("{{");
        out.push_str(&rewrite_action(&after[..close]));
        out.push_str("}}");
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The offset of the `}}` that ends an action, skipping quoted strings and comments.
fn action_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let body = s.trim_start_matches('-').trim_start();
    if body.starts_with("/*") {
        let start = s.len() - body.len();
        let end = body.find("*/")?;
        return s[start + end + 2..].find("}}").map(|i| start + end + 2 + i);
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn rewrite_action(inner: &str) -> String {
    // Trim markers: `{{- ` and ` -}}`.
    let (lead, body) = match inner.strip_prefix("- ") {
        Some(b) => ("- ", b),
        None => ("", inner),
    };
    let (body, trail) = match body.strip_suffix(" -") {
        Some(b) => (b, " -"),
        None => (body, ""),
    };
    let t = body.trim();
    if t.starts_with("/*") {
        return inner.to_string();
    }
    let body = rewrite_label(body);
    let first = t
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    if t.is_empty() || KEYWORDS.contains(&first) || is_assignment(t) {
        return format!("{lead}{body}{trail}");
    }
    format!("{lead}{} | _print{trail}", body.trim_end())
}

/// `$x := …`, `$x = …`: a declaration or assignment prints nothing.
fn is_assignment(t: &str) -> bool {
    if !t.starts_with('$') {
        return false;
    }
    let after = t.trim_start_matches(|c: char| {
        c == '$' || c == ',' || c.is_alphanumeric() || c == '_' || c.is_whitespace()
    });
    after.starts_with(":=") || (after.starts_with('=') && !after.starts_with("=="))
}

/// `.Label "k"` on dot (not `.Config.Label`) becomes `_label . "k"`.
fn rewrite_label(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find(".Label") {
        let before_ok = i == 0 || {
            let p = rest.as_bytes()[i - 1];
            p.is_ascii_whitespace() || p == b'(' || p == b'|'
        };
        let after = &rest[i + ".Label".len()..];
        let arg = after.trim_start();
        let after_ok = after.len() > arg.len() && (arg.starts_with('"') || arg.starts_with('`'));
        out.push_str(&rest[..i]);
        if before_ok && after_ok {
            out.push_str("_label .");
        } else {
            out.push_str(".Label");
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_actions_end_in_print() {
        assert_eq!(rewrite("{{.A}}"), "{{.A | _print}}");
        assert_eq!(rewrite("x{{- .A -}}y"), "x{{- .A | _print -}}y");
        assert_eq!(
            rewrite("{{range .M}}{{.S}}{{end}}"),
            "{{range .M}}{{.S | _print}}{{end}}"
        );
        assert_eq!(rewrite("{{$x := .A}}{{$x}}"), "{{$x := .A}}{{$x | _print}}");
        assert_eq!(
            rewrite("{{if eq .A \"}}\"}}y{{end}}"),
            "{{if eq .A \"}}\"}}y{{end}}"
        );
        assert_eq!(rewrite("{{/* a }} b */}}c"), "{{/* a }} b */}}c");
        assert_eq!(rewrite("{{json .}}"), "{{json . | _print}}");
        assert_eq!(rewrite("{{.ID"), "{{.ID");
    }

    #[test]
    fn label_method_becomes_a_function() {
        assert_eq!(rewrite("{{.Label \"a\"}}"), "{{_label . \"a\" | _print}}");
        assert_eq!(
            rewrite("{{if .Label \"a\"}}y{{end}}"),
            "{{if _label . \"a\"}}y{{end}}"
        );
        assert_eq!(rewrite("{{.Labels}}"), "{{.Labels | _print}}");
        assert_eq!(
            rewrite("{{.Config.Label \"a\"}}"),
            "{{.Config.Label \"a\" | _print}}"
        );
    }

    #[test]
    fn values_print_as_go_prints_them() {
        let map: std::collections::HashMap<String, Value> = [
            ("b".to_string(), Value::from("2")),
            (
                "a".to_string(),
                Value::Array(vec![Value::from("x"), Value::from(1u64)]),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(go_text(&Value::Map(map)), "map[a:[x 1] b:2]");
        assert_eq!(go_text(&Value::Nil), "<nil>");
        assert_eq!(go_text(&Value::Array(vec![])), "[]");
    }
}
