//! [`Backend`] over the real engine. Parts of the engine that are not in this build yet
//! answer with an error saying so; nothing is ever made up.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::mpsc;

use super::{Backend, ShellIo};
use crate::engine::Engine;
use crate::tui::model::{ContainerRow, ImageRow, LogLine, RunSpec, VolumeRow};
use crate::tui::msg::{ContainerOp, Kind, News};

fn not_yet<T: Send + 'static>(what: &str) -> BoxFuture<'static, Result<T, String>> {
    let msg = format!("{what} is not available in this build yet");
    async move { Err(msg) }.boxed()
}

impl Backend for Engine {
    fn containers(&self) -> BoxFuture<'static, Result<Vec<ContainerRow>, String>> {
        not_yet("listing containers")
    }
    fn images(&self) -> BoxFuture<'static, Result<Vec<ImageRow>, String>> {
        not_yet("listing images")
    }
    fn volumes(&self) -> BoxFuture<'static, Result<Vec<VolumeRow>, String>> {
        not_yet("listing volumes")
    }
    fn container_op(&self, _id: String, op: ContainerOp) -> BoxFuture<'static, Result<(), String>> {
        not_yet(&format!("{} of containers", op.verb()))
    }
    fn remove_container(
        &self,
        _id: String,
        _force: bool,
        _volumes: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        not_yet("removing containers")
    }
    fn remove_image(
        &self,
        _reference: String,
        _force: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        not_yet("removing images")
    }
    fn remove_volume(&self, _name: String, _force: bool) -> BoxFuture<'static, Result<(), String>> {
        not_yet("removing volumes")
    }
    fn create_volume(&self, _name: String) -> BoxFuture<'static, Result<(), String>> {
        not_yet("creating volumes")
    }
    fn prune(&self, kind: Kind) -> BoxFuture<'static, Result<String, String>> {
        not_yet(&format!("pruning {}s", kind.noun()))
    }
    fn inspect(&self, kind: Kind, _id: String) -> BoxFuture<'static, Result<String, String>> {
        not_yet(&format!("inspecting {}s", kind.noun()))
    }
    fn pull(
        &self,
        _reference: String,
        _progress: mpsc::UnboundedSender<News>,
    ) -> BoxFuture<'static, Result<String, String>> {
        not_yet("pulling images")
    }
    fn run(&self, _spec: RunSpec) -> BoxFuture<'static, Result<(String, String), String>> {
        not_yet("running containers")
    }
    fn follow_logs(
        &self,
        _container: String,
        _tail: Option<usize>,
        _since: Option<DateTime<Utc>>,
        _out: mpsc::Sender<Vec<LogLine>>,
    ) -> BoxFuture<'static, Result<(), String>> {
        not_yet("following logs")
    }
    fn open_shell(
        &self,
        _container: String,
        attach: bool,
        _cols: u16,
        _rows: u16,
    ) -> BoxFuture<'static, Result<ShellIo, String>> {
        not_yet(if attach {
            "attaching to containers"
        } else {
            "shells in containers"
        })
    }
}
