//! A one-line text input (filter, search, pull reference, form fields).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key did to an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Changed,
    Moved,
    Submit,
    Cancel,
    Next,
    Prev,
    Ignored,
}

/// Text and a cursor (in characters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    pub text: String,
    pub cursor: usize,
}

impl TextInput {
    /// An input holding `text` with the cursor at its end.
    pub fn with(text: &str) -> TextInput {
        TextInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte(&self, ch: usize) -> usize {
        self.text
            .char_indices()
            .nth(ch)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies a key.
    pub fn key(&mut self, ev: &KeyEvent) -> Edit {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.text.chars().count();
        match ev.code {
            KeyCode::Enter => Edit::Submit,
            KeyCode::Esc => Edit::Cancel,
            KeyCode::Tab | KeyCode::Down => Edit::Next,
            KeyCode::BackTab | KeyCode::Up => Edit::Prev,
            KeyCode::Char('c') if ctrl => Edit::Cancel,
            KeyCode::Char('u') if ctrl => {
                self.text.drain(..self.byte(self.cursor));
                self.cursor = 0;
                Edit::Changed
            }
            KeyCode::Char('a') if ctrl => {
                self.cursor = 0;
                Edit::Moved
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = len;
                Edit::Moved
            }
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte(start), self.byte(self.cursor));
                self.text.drain(a..b);
                self.cursor = start;
                Edit::Changed
            }
            KeyCode::Char(c) if !ctrl => {
                let at = self.byte(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                Edit::Changed
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
                Edit::Changed
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte(self.cursor);
                self.text.remove(at);
                Edit::Changed
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                Edit::Moved
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(len);
                Edit::Moved
            }
            KeyCode::Home => {
                self.cursor = 0;
                Edit::Moved
            }
            KeyCode::End => {
                self.cursor = len;
                Edit::Moved
            }
            _ => Edit::Ignored,
        }
    }

    /// The text with a cursor mark, for display when focused.
    pub fn display(&self, focused: bool) -> String {
        if !focused {
            return self.text.clone();
        }
        let at = self.byte(self.cursor);
        format!("{}▏{}", &self.text[..at], &self.text[at..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_in_the_middle_with_unicode() {
        let mut t = TextInput::default();
        for c in "héllo".chars() {
            t.key(&k(KeyCode::Char(c)));
        }
        t.key(&k(KeyCode::Left));
        t.key(&k(KeyCode::Left));
        t.key(&k(KeyCode::Backspace));
        assert_eq!(t.text, "hélo");
        t.key(&k(KeyCode::Char('L')));
        assert_eq!(t.display(true), "héL▏lo");
        assert_eq!(t.key(&k(KeyCode::Enter)), Edit::Submit);
        let mut t = TextInput::with("run busybox sh");
        t.key(&KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(t.text, "run busybox ");
        t.key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(t.text, "");
        assert_eq!(t.key(&k(KeyCode::Backspace)), Edit::Ignored);
    }
}
