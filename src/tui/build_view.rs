//! The state of the build view: the steps with a status each, parsed from the build's own lines
//! (`Step 2/5 : RUN …`, ` ---> Using cache`), and the output, bounded.

use std::collections::VecDeque;

use super::form::Form;
use super::model::BuildLine;
use super::msg::JobId;

/// Lines of output kept (older ones are dropped, and counted).
pub const KEEP_LINES: usize = 5000;

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Running,
    Cached,
    Done,
    Failed,
}

impl StepStatus {
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::Cached => "cached",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
        }
    }
}

/// One step of the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub n: usize,
    pub total: usize,
    /// The instruction as written.
    pub text: String,
    pub status: StepStatus,
}

/// A build the session started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildView {
    pub job: JobId,
    /// What is built (the first tag, or the context).
    pub title: String,
    pub steps: Vec<Step>,
    pub lines: VecDeque<String>,
    /// Lines dropped from the front.
    pub dropped: usize,
    /// `Some(Ok(image id))` or `Some(Err(why))` once finished.
    pub result: Option<Result<String, String>>,
    /// Lines scrolled back from the end (0 follows the output).
    pub back: usize,
    /// The form it came from, to build again.
    pub form: Form,
    /// Asked to stop; it ends soon.
    pub cancelling: bool,
}

impl BuildView {
    pub fn new(job: JobId, title: String, form: Form) -> BuildView {
        BuildView {
            job,
            title,
            steps: Vec::new(),
            lines: VecDeque::new(),
            dropped: 0,
            result: None,
            back: 0,
            form,
            cancelling: false,
        }
    }

    /// Takes a line of the build.
    pub fn push(&mut self, line: BuildLine) {
        let text = match line {
            BuildLine::Step(text) => {
                if let Some((n, total, instruction)) = parse_step(&text) {
                    self.end_running(StepStatus::Done);
                    self.steps.push(Step {
                        n,
                        total,
                        text: instruction.to_string(),
                        status: StepStatus::Running,
                    });
                } else if text.trim() == "---> Using cache" {
                    if let Some(s) = self.steps.last_mut() {
                        s.status = StepStatus::Cached;
                    }
                }
                text
            }
            BuildLine::Output(text) => text,
        };
        self.lines.push_back(text);
        if self.lines.len() > KEEP_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }

    /// The build ended.
    pub fn finish(&mut self, result: Result<String, String>) {
        let status = if result.is_ok() {
            StepStatus::Done
        } else {
            StepStatus::Failed
        };
        self.end_running(status);
        self.result = Some(result);
    }

    pub fn running(&self) -> bool {
        self.result.is_none()
    }

    fn end_running(&mut self, status: StepStatus) {
        if let Some(s) = self
            .steps
            .last_mut()
            .filter(|s| s.status == StepStatus::Running)
        {
            s.status = status;
        }
    }
}

/// `Step 3/9 : RUN make` → (3, 9, "RUN make").
fn parse_step(text: &str) -> Option<(usize, usize, &str)> {
    let rest = text.strip_prefix("Step ")?;
    let (counts, instruction) = rest.split_once(" : ")?;
    let (n, total) = counts.split_once('/')?;
    Some((n.parse().ok()?, total.parse().ok()?, instruction))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_get_their_status_from_the_lines() {
        let mut v = BuildView::new(1, "app:1".into(), Form::build());
        for l in [
            BuildLine::Step("Step 1/3 : FROM busybox".into()),
            BuildLine::Step(" ---> 0123456789ab".into()),
            BuildLine::Step("Step 2/3 : COPY . /app".into()),
            BuildLine::Step(" ---> Using cache".into()),
            BuildLine::Step("Step 3/3 : RUN make".into()),
            BuildLine::Output("cc -o app app.c".into()),
        ] {
            v.push(l);
        }
        let st: Vec<_> = v.steps.iter().map(|s| (s.n, s.status)).collect();
        assert_eq!(
            st,
            [
                (1, StepStatus::Done),
                (2, StepStatus::Cached),
                (3, StepStatus::Running)
            ]
        );
        assert_eq!(v.steps[2].text, "RUN make");
        v.finish(Err("RUN make: exit code 2".into()));
        assert_eq!(v.steps[2].status, StepStatus::Failed);
        assert_eq!(v.lines.len(), 6);
        for i in 0..KEEP_LINES {
            v.push(BuildLine::Output(format!("line {i}")));
        }
        assert_eq!(v.lines.len(), KEEP_LINES);
        assert_eq!(v.dropped, 6);
    }
}
