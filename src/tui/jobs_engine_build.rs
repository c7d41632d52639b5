//! [`BuildBackend`] over the real engine.

use std::collections::BTreeMap;
use std::path::PathBuf;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::mpsc;

use crate::engine::build::{BuildOptions, BuildOutput};
use crate::engine::image::commit::CommitOptions;
use crate::engine::image::explore::{EntryChange, EntryKind};
use crate::engine::Engine;
use crate::tui::jobs_build::BuildBackend;
use crate::tui::model::{BuildLine, BuildSpec, Change, CommitSpec, EntryRow, LayerInfo};

/// A build's output as lines on a channel (a RUN's output split at its newlines).
struct Lines {
    tx: mpsc::UnboundedSender<BuildLine>,
    partial: String,
}

impl BuildOutput for Lines {
    fn line(&mut self, text: &str) {
        let _ = self.tx.send(BuildLine::Step(text.to_string()));
    }

    fn output(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            let line = line.trim_end_matches(['\n', '\r']).to_string();
            let _ = self.tx.send(BuildLine::Output(line));
        }
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        if !self.partial.is_empty() {
            let _ = self
                .tx
                .send(BuildLine::Output(std::mem::take(&mut self.partial)));
        }
    }
}

fn human(bytes: u64) -> String {
    crate::tui::format::size(bytes)
}

impl BuildBackend for Engine {
    fn commit(&self, id: String, spec: CommitSpec) -> BoxFuture<'static, Result<String, String>> {
        let e = self.clone();
        let opts = CommitOptions {
            author: spec.author,
            message: spec.message,
            changes: Vec::new(),
            pause: true,
            reference: spec.reference,
        };
        async move {
            e.commit(id, opts)
                .await
                .map(|rec| rec.id)
                .map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn build(
        &self,
        spec: BuildSpec,
        lines: mpsc::UnboundedSender<BuildLine>,
        cancel: std::sync::Arc<crate::engine::build::cancel::BuildCancel>,
    ) -> BoxFuture<'static, Result<String, String>> {
        let e = self.clone();
        async move {
            let context = PathBuf::from(&spec.context);
            let file = match &spec.dockerfile {
                Some(f) => PathBuf::from(f),
                None => context.join("Dockerfile"),
            };
            let dockerfile = tokio::fs::read_to_string(&file)
                .await
                .map_err(|err| format!("cannot read the Dockerfile {}: {err}", file.display()))?;
            let opts = BuildOptions {
                context,
                dockerfile,
                tags: spec.tags,
                build_args: spec.args.into_iter().collect::<BTreeMap<_, _>>(),
                no_cache: spec.no_cache,
                source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
                    .ok()
                    .and_then(|v| v.trim().parse().ok()),
                cancel: Some(cancel),
                ..Default::default()
            };
            let out = Box::new(Lines {
                tx: lines,
                partial: String::new(),
            });
            e.build_image(opts, out)
                .await
                .map(|rec| rec.id)
                .map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn cancel_build(
        &self,
        cancel: std::sync::Arc<crate::engine::build::cancel::BuildCancel>,
    ) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        async move { e.build_cancel(cancel).await.map_err(|e| e.to_string()) }.boxed()
    }

    fn layers(&self, image: String) -> BoxFuture<'static, Result<Vec<LayerInfo>, String>> {
        let e = self.clone();
        async move {
            Ok(e.image_layers(image)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|l| LayerInfo {
                    diff_id: l.diff_id,
                    size: l.size,
                    created_by: l.created_by,
                })
                .collect())
        }
        .boxed()
    }

    fn layer_entries(
        &self,
        image: String,
        index: usize,
    ) -> BoxFuture<'static, Result<Vec<EntryRow>, String>> {
        let e = self.clone();
        async move {
            Ok(e.image_layer_entries(image, index)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|x| EntryRow {
                    change: match x.change {
                        EntryChange::Added => Change::Added,
                        EntryChange::Changed => Change::Changed,
                        EntryChange::Removed => Change::Removed,
                    },
                    dir: x.kind == EntryKind::Dir,
                    link: x.kind == EntryKind::Symlink,
                    size: x.size,
                    path: x.path,
                })
                .collect())
        }
        .boxed()
    }

    fn history(&self, image: String) -> BoxFuture<'static, Result<Vec<Vec<String>>, String>> {
        let e = self.clone();
        async move {
            let rows = e.image_history_of(image).await.map_err(|e| e.to_string())?;
            let mut out = vec![vec![
                "SIZE".to_string(),
                "CREATED".to_string(),
                "CREATED BY".to_string(),
            ]];
            let now = chrono::Utc::now();
            out.extend(rows.into_iter().map(|r| {
                let created = r
                    .created
                    .as_deref()
                    .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                    .map(|t| crate::tui::format::ago(t.with_timezone(&chrono::Utc), now))
                    .unwrap_or_default();
                let by = if r.comment.is_empty() {
                    r.created_by
                } else {
                    format!("{} ({})", r.created_by, r.comment)
                };
                vec![human(r.size), created, by]
            }));
            Ok(out)
        }
        .boxed()
    }
}
