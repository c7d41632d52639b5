//! The real terminal: raw mode and the alternate screen while the TUI runs, restored on drop
//! and by a panic hook before the panic message prints; mouse capture on demand.

use std::io::{self, Stdout, Write};
use std::sync::Once;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// The TUI's terminal; dropping it gives the terminal back as it was.
pub struct Term {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
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
        let mut term = Term {
            terminal: Terminal::new(CrosstermBackend::new(io::stdout()))?,
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
