//! Making images from Dockerfiles, daemonless: the parser (`parser`), variable substitution and
//! word splitting (`words`), the context and `.dockerignore` (`context`), the config-only
//! instructions shared with `commit -c` (`config_ops`), COPY/ADD into a staging layer (`copy`),
//! RUN in an engine container (`run_step`), the step cache (`cache`), the stages and steps
//! (`executor`, `stages`), independent stages at the same time (`parallel`), cancelling a build
//! and collecting what a killed one left (`cancel`).

pub mod api;
pub mod cache;
pub mod cancel;
pub mod config_ops;
pub mod context;
pub mod copy;
mod copy_step;
pub mod executor;
mod parallel;
pub mod parser;
pub mod run_step;
pub mod stages;
pub mod words;

pub use cancel::BuildCancel;
pub use executor::BuildOptions;

/// Where a build's output goes: docker's step lines and the RUN containers' output.
pub trait BuildOutput: Send {
    /// A line of the build's own (`Step 2/5 : RUN …`, ` ---> Using cache`), no newline.
    fn line(&mut self, text: &str);
    /// Output of a RUN's container, as it came (with its newlines).
    fn output(&mut self, text: &str);
}

/// Output thrown away (`-q`).
pub struct Quiet;

impl BuildOutput for Quiet {
    fn line(&mut self, _: &str) {}
    fn output(&mut self, _: &str) {}
}
