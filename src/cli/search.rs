//! `berth search`: docker's columns (NAME, DESCRIPTION, STARS, OFFICIAL), `--limit`,
//! `--format`.

use clap::{ArgAction, Args};

use super::format::Format;
use super::Cli;
use crate::engine::compat::rows::SEARCH_HEADERS;

/// `berth search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Max number of search results
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// Format: table (default), json, or a Go template ('{{.Name}}')
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Verify TLS certificates; =false also allows plain http
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tls_verify: bool,
    /// TERM (Docker Hub) or REGISTRY/TERM (the registry's catalog)
    pub term: String,
}

/// Runs `search`.
pub async fn search(cli: &Cli, a: &SearchArgs) -> anyhow::Result<i32> {
    let format = Format::parse(a.format.as_deref())?;
    let engine = cli.engine()?;
    let rows = engine.search(&a.term, a.limit, a.tls_verify).await?;
    if !format.is_default() {
        print!("{}", format.list(&rows, SEARCH_HEADERS)?);
        return Ok(0);
    }
    let mut table = vec![vec![
        "NAME".to_string(),
        "DESCRIPTION".into(),
        "STARS".into(),
        "OFFICIAL".into(),
    ]];
    for r in rows {
        let mut description = r.description.replace('\n', " ");
        if !a.no_trunc && description.chars().count() > 45 {
            description = description.chars().take(44).collect::<String>() + "…";
        }
        table.push(vec![
            r.name,
            description,
            r.star_count.to_string(),
            if r.is_official {
                "[OK]".into()
            } else {
                String::new()
            },
        ]);
    }
    super::image::print_table(&table);
    Ok(0)
}
