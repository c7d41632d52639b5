//! What a monitor tells the process that spawned it, one JSON object a line on the status pipe
//! (the monitor's fd 3).

use std::io::{BufRead, BufReader, Read, Write};

use serde::{Deserialize, Serialize};

/// One status message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum MonitorMessage {
    /// The container runs: its host pid, and the monitor's pid and start time.
    Started {
        pid: i32,
        monitor_pid: i32,
        monitor_start: u64,
    },
    /// The container could not be started; `code` is Docker's exit code (125, 126, 127).
    Failed { message: String, code: i32 },
    /// The container's process ended with this exit code (after all its output was relayed).
    Exited { code: i32 },
}

impl MonitorMessage {
    /// Writes the message as one line (errors ignored: the reader may be gone).
    pub fn send(&self, w: &mut impl Write) {
        if let Ok(mut line) = serde_json::to_string(self) {
            line.push('\n');
            let _ = w.write_all(line.as_bytes());
            let _ = w.flush();
        }
    }
}

/// Reads status messages from the monitor's status pipe.
pub struct StatusReader<R: Read> {
    inner: BufReader<R>,
}

impl<R: Read> StatusReader<R> {
    /// Wraps the read end of the status pipe.
    pub fn new(r: R) -> Self {
        StatusReader {
            inner: BufReader::new(r),
        }
    }

    /// The pipe's read end.
    pub fn get_ref(&self) -> &R {
        self.inner.get_ref()
    }

    /// The next message; `None` when the monitor closed the pipe (exited or died).
    pub fn next_message(&mut self) -> Option<MonitorMessage> {
        loop {
            let mut line = String::new();
            match self.inner.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {
                    if let Ok(m) = serde_json::from_str(line.trim()) {
                        return Some(m);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let mut buf = Vec::new();
        MonitorMessage::Failed {
            message: "x".into(),
            code: 127,
        }
        .send(&mut buf);
        MonitorMessage::Exited { code: 3 }.send(&mut buf);
        let mut r = StatusReader::new(&buf[..]);
        assert_eq!(
            r.next_message(),
            Some(MonitorMessage::Failed {
                message: "x".into(),
                code: 127
            })
        );
        assert_eq!(r.next_message(), Some(MonitorMessage::Exited { code: 3 }));
        assert_eq!(r.next_message(), None);
    }
}
