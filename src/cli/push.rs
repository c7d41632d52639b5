//! `berth push` (and `image push`): docker's per-layer lines and the final digest line.

use std::io::Write;

use clap::{ArgAction, Args};

use super::Cli;
use crate::engine::distribution::push::{PushOptions, PushProgress, PushState};
use crate::engine::{EngineError, ImageRef};

/// `berth push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push all tags of the repository
    #[arg(short, long = "all-tags")]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    /// Verify TLS certificates; =false also allows plain http
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tls_verify: bool,
    /// Image to push (NAME[:TAG]; with --all-tags, NAME)
    pub name: String,
}

/// Runs `push`.
pub async fn push(cli: &Cli, a: &PushArgs) -> anyhow::Result<i32> {
    let engine = cli.engine()?;
    let r = ImageRef::parse(&a.name)?;
    if r.digest.is_some() {
        return Err(EngineError::InvalidInput(format!(
            "cannot push a digest reference \"{}\": name a tag",
            a.name
        ))
        .into());
    }
    let explicit_tag = a.name.rsplit('/').next().is_some_and(|l| l.contains(':'));
    let targets: Vec<ImageRef> = if a.all_tags {
        if explicit_tag {
            return Err(
                EngineError::InvalidInput("tag can't be used with --all-tags/-a".into()).into(),
            );
        }
        let repo = r.repository();
        let mut tags: Vec<ImageRef> = Vec::new();
        for image in engine.image_record_list().await? {
            for t in image.repo_tags {
                if let Ok(t) = ImageRef::parse(&t) {
                    if t.repository() == repo {
                        tags.push(t);
                    }
                }
            }
        }
        tags.sort();
        if tags.is_empty() {
            return Err(EngineError::NotFound(format!(
                "an image does not exist locally with the repository: {}",
                r.familiar_repository()
            ))
            .into());
        }
        tags
    } else {
        vec![r.clone()]
    };
    if !a.quiet {
        println!(
            "The push refers to repository [{}]",
            r.familiar_repository()
        );
    }
    let opts = PushOptions {
        tls_verify: a.tls_verify,
    };
    for target in targets {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PushProgress>();
        let quiet = a.quiet;
        let printer = tokio::spawn(async move {
            let mut last: std::collections::HashMap<String, PushState> = Default::default();
            while let Some(p) = rx.recv().await {
                if quiet || last.get(&p.digest) == Some(&p.state) {
                    continue;
                }
                let short = p.digest.trim_start_matches("sha256:");
                println!("{}: {}", &short[..short.len().min(12)], p.state.label());
                let _ = std::io::stdout().flush();
                last.insert(p.digest.clone(), p.state);
            }
        });
        let result = engine.push(&target, &opts, Some(tx)).await;
        let _ = printer.await;
        let result = result?;
        if a.quiet {
            println!("{}", target.familiar());
        } else {
            println!(
                "{}: digest: {} size: {}",
                result.tag, result.digest, result.size
            );
        }
    }
    Ok(0)
}
