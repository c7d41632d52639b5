//! The shell pane: an embedded terminal (tui-term over a vt100 parser) fed by the bytes of an
//! exec or attach pty, beside the logs.
//!
//! The seam: `Cmd::OpenShell` asks `jobs` for a pty session; its output comes back as
//! `Output::ShellOutput` bytes that [`ShellPane::feed`] parses; keys typed while the pane has
//! focus are encoded by [`encode_key`] and sent as `Cmd::ShellInput`; layout changes send
//! `Cmd::ShellResize`. `C-]` (leave) gives the keyboard back to the TUI.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_term::vt100;

use super::msg::JobId;

/// Lines of scrollback the embedded terminal keeps.
const SCROLLBACK: usize = 1000;

/// An open shell or attach session.
pub struct ShellPane {
    pub container: String,
    /// Container name for the title.
    pub title: String,
    pub attach: bool,
    pub job: JobId,
    pub parser: vt100::Parser,
    /// Keys go to the shell.
    pub focused: bool,
    /// `Some(None)` when it exited, `Some(Some(e))` when it failed.
    pub ended: Option<Option<String>>,
}

impl std::fmt::Debug for ShellPane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellPane")
            .field("container", &self.container)
            .field("job", &self.job)
            .field("size", &self.parser.screen().size())
            .field("focused", &self.focused)
            .field("ended", &self.ended)
            .finish()
    }
}

impl ShellPane {
    pub fn new(
        container: &str,
        title: &str,
        attach: bool,
        job: JobId,
        rows: u16,
        cols: u16,
    ) -> Self {
        ShellPane {
            container: container.to_string(),
            title: title.to_string(),
            attach,
            job,
            parser: vt100::Parser::new(rows.max(1), cols.max(1), SCROLLBACK),
            focused: true,
            ended: None,
        }
    }

    /// Feeds terminal output.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
    }

    /// Resizes the emulated screen; true when the size changed.
    pub fn resize(&mut self, rows: u16, cols: u16) -> bool {
        let (rows, cols) = (rows.max(1), cols.max(1));
        if self.parser.screen().size() == (rows, cols) {
            return false;
        }
        self.parser.set_size(rows, cols);
        true
    }
}

/// Whether `ev` is the key that takes the keyboard back from the shell (`C-]`).
pub fn is_leave_key(ev: &KeyEvent) -> bool {
    ev.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(ev.code, KeyCode::Char(']') | KeyCode::Char('5'))
}

/// The bytes a terminal sends for a key (xterm sequences).
pub fn encode_key(ev: &KeyEvent) -> Option<Vec<u8>> {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let alt = ev.modifiers.contains(KeyModifiers::ALT);
    let mut out = match ev.code {
        KeyCode::Char(c) if ctrl => {
            let b = match c.to_ascii_lowercase() {
                c @ 'a'..='z' => c as u8 - b'a' + 1,
                '@' | ' ' | '2' => 0,
                '[' | '3' => 0x1b,
                '\\' | '4' => 0x1c,
                ']' | '5' => 0x1d,
                '^' | '6' => 0x1e,
                '_' | '7' | '/' => 0x1f,
                _ => return None,
            };
            vec![b]
        }
        KeyCode::Char(c) => c.to_string().into_bytes(),
        KeyCode::Enter => vec![b'\r'],
        KeyCode::Tab => vec![b'\t'],
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace => vec![0x7f],
        KeyCode::Esc => vec![0x1b],
        KeyCode::Up => b"\x1b[A".to_vec(),
        KeyCode::Down => b"\x1b[B".to_vec(),
        KeyCode::Right => b"\x1b[C".to_vec(),
        KeyCode::Left => b"\x1b[D".to_vec(),
        KeyCode::Home => b"\x1b[H".to_vec(),
        KeyCode::End => b"\x1b[F".to_vec(),
        KeyCode::Insert => b"\x1b[2~".to_vec(),
        KeyCode::Delete => b"\x1b[3~".to_vec(),
        KeyCode::PageUp => b"\x1b[5~".to_vec(),
        KeyCode::PageDown => b"\x1b[6~".to_vec(),
        KeyCode::F(n @ 1..=4) => vec![0x1b, b'O', b'P' + n - 1],
        KeyCode::F(n @ 5..=12) => {
            let code = [15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)];
            format!("\x1b[{code}~").into_bytes()
        }
        _ => return None,
    };
    if alt {
        out.insert(0, 0x1b);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn keys_encode_like_xterm() {
        let n = KeyModifiers::NONE;
        assert_eq!(
            encode_key(&k(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(vec![3])
        );
        assert_eq!(
            encode_key(&k(KeyCode::Char('é'), n)),
            Some("é".as_bytes().to_vec())
        );
        assert_eq!(encode_key(&k(KeyCode::Up, n)), Some(b"\x1b[A".to_vec()));
        assert_eq!(
            encode_key(&k(KeyCode::Char('x'), KeyModifiers::ALT)),
            Some(b"\x1bx".to_vec())
        );
        assert_eq!(encode_key(&k(KeyCode::F(5), n)), Some(b"\x1b[15~".to_vec()));
        assert_eq!(encode_key(&k(KeyCode::F(1), n)), Some(b"\x1bOP".to_vec()));
        assert!(is_leave_key(&k(KeyCode::Char(']'), KeyModifiers::CONTROL)));
    }

    #[test]
    fn pane_parses_output_and_resizes() {
        let mut s = ShellPane::new("id", "web", false, 1, 5, 20);
        s.feed(b"/ # echo $((6*7))\r\n42\r\n/ # ");
        assert!(s.parser.screen().contents().contains("\n42\n"));
        assert!(s.resize(10, 40));
        assert!(!s.resize(10, 40));
        assert!(s.resize(0, 0));
        assert_eq!(s.parser.screen().size(), (1, 1));
    }
}
