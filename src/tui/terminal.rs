//! The real terminal: raw mode and the alternate screen while the TUI runs, restored on drop
//! and by a panic hook before the panic message prints; mouse capture on demand. Drawing goes
//! through [`Quiet`], which knows the size from resize events (no `/dev/tty` open and ioctl per
//! frame, as crossterm's `terminal::size()` under ratatui's autoresize does) and writes nothing
//! for a frame equal to the one on screen.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Once};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::Terminal;

/// The TUI's terminal; dropping it gives the terminal back as it was.
pub struct Term {
    pub terminal: Terminal<Quiet<CrosstermBackend<Stdout>>>,
    /// The size the terminal has, for [`Quiet`]; the event loop's input stream sets it on
    /// each resize event ([`SizeCell::set`]).
    pub size: SizeCell,
    mouse: bool,
}

static HOOK: Once = Once::new();

impl Term {
    /// Enters raw mode and the alternate screen.
    pub fn enter(mouse: bool) -> io::Result<Term> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let _ = restore();
                previous(info);
            }));
        });
        enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
            let _ = restore();
            return Err(e);
        }
        let (w, h) = crossterm::terminal::size()?;
        let size = SizeCell::new(w, h);
        let mut term = Term {
            terminal: Terminal::new(Quiet::new(
                CrosstermBackend::new(io::stdout()),
                size.clone(),
            ))?,
            size,
            mouse: false,
        };
        term.set_mouse(mouse)?;
        term.terminal.clear()?;
        Ok(term)
    }

    /// Turns mouse capture on or off (off lets the terminal select text).
    pub fn set_mouse(&mut self, on: bool) -> io::Result<()> {
        if on != self.mouse {
            let mut out = io::stdout();
            if on {
                execute!(out, EnableMouseCapture)?;
            } else {
                execute!(out, DisableMouseCapture)?;
            }
            self.mouse = on;
        }
        Ok(())
    }
}

/// The terminal's size, shared between the input stream (which sees resize events) and the
/// backend (which ratatui asks before every frame).
#[derive(Debug, Clone)]
pub struct SizeCell(Arc<AtomicU32>);

impl SizeCell {
    pub fn new(width: u16, height: u16) -> SizeCell {
        let cell = SizeCell(Arc::new(AtomicU32::new(0)));
        cell.set(width, height);
        cell
    }

    pub fn set(&self, width: u16, height: u16) {
        self.0.store(
            u32::from(width) << 16 | u32::from(height),
            Ordering::Relaxed,
        );
    }

    pub fn get(&self) -> Size {
        let v = self.0.load(Ordering::Relaxed);
        Size::new((v >> 16) as u16, (v & 0xffff) as u16)
    }
}

/// A backend that answers the size from a [`SizeCell`] instead of asking the terminal, and
/// skips what would change nothing on screen: an empty frame difference (the inner backend
/// would still reset colours and attributes), hiding a hidden cursor, flushing nothing. An idle
/// redraw that finds the screen unchanged makes no system call.
pub struct Quiet<B> {
    inner: B,
    size: SizeCell,
    /// Whether the cursor is hidden, once known.
    hidden: Option<bool>,
    /// Something was written since the last flush.
    pending: bool,
}

impl<B: Backend> Quiet<B> {
    pub fn new(inner: B, size: SizeCell) -> Quiet<B> {
        Quiet {
            inner,
            size,
            hidden: None,
            pending: false,
        }
    }

    fn wrote<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        self.pending = true;
        r
    }
}

impl<B: Backend> Backend for Quiet<B> {
    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        let r = self.inner.draw(content);
        self.wrote(r)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        let r = self.inner.append_lines(n);
        self.wrote(r)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.hidden == Some(true) {
            return Ok(());
        }
        let r = self.inner.hide_cursor();
        self.hidden = r.is_ok().then_some(true);
        self.wrote(r)
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.hidden == Some(false) {
            return Ok(());
        }
        let r = self.inner.show_cursor();
        self.hidden = r.is_ok().then_some(false);
        self.wrote(r)
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let r = self.inner.set_cursor_position(position);
        self.wrote(r)
    }

    fn clear(&mut self) -> io::Result<()> {
        let r = self.inner.clear();
        self.wrote(r)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        let r = self.inner.clear_region(clear_type);
        self.wrote(r)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size.get())
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.pending) {
            return Ok(());
        }
        self.inner.flush()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = restore();
    }
}

/// Leaves the alternate screen and raw mode, shows the cursor. Safe to call more than once.
pub fn restore() -> io::Result<()> {
    let mut out = io::stdout();
    let _ = execute!(out, DisableMouseCapture);
    let r = execute!(out, LeaveAlternateScreen, cursor::Show);
    let raw = disable_raw_mode();
    let _ = out.flush();
    r.and(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::widgets::Paragraph;

    /// What the backend wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Sink(std::rc::Rc<std::cell::Cell<usize>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.set(self.0.get() + buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A frame equal to the one on screen writes nothing; a changed one writes only then; the
    /// size comes from the cell, and a new size redraws everything at that size.
    #[test]
    fn writes_only_changes_and_takes_the_size_from_the_cell() {
        let size = SizeCell::new(20, 3);
        let sink = Sink::default();
        let written = |_: &Terminal<Quiet<CrosstermBackend<Sink>>>| sink.0.get();
        let backend = Quiet::new(CrosstermBackend::new(sink.clone()), size.clone());
        let mut t = Terminal::new(backend).unwrap();
        let draw = |t: &mut Terminal<_>, text: &str| {
            let area = t.draw(|f| f.render_widget(Paragraph::new(text), f.area()));
            area.unwrap().area
        };
        assert_eq!(
            draw(&mut t, "hello"),
            ratatui::layout::Rect::new(0, 0, 20, 3)
        );
        let first = written(&t);
        assert!(first > 0);
        draw(&mut t, "hello");
        assert_eq!(written(&t), first, "an unchanged frame writes nothing");
        draw(&mut t, "hellO");
        let second = written(&t);
        assert!(second > first);
        draw(&mut t, "hellO");
        assert_eq!(written(&t), second);
        size.set(30, 4);
        assert_eq!(
            draw(&mut t, "hellO"),
            ratatui::layout::Rect::new(0, 0, 30, 4)
        );
        assert!(written(&t) > second, "a resize redraws");
    }
}
