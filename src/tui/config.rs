//! `tui.toml` in berth's config dir: key bindings, theme colours, mouse capture.
//!
//! ```toml
//! mouse = false                 # start with mouse capture off
//! [keys]
//! quit = ["q", "ctrl-c"]        # action name = key or list of keys
//! start_stop = "S"
//! [theme]
//! stderr = "#ff8800"            # colour name, #rrggbb or 0-255
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::keymap::{Action, Key, Keymap};
use super::theme::Theme;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum KeySpec {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, KeySpec>,
    #[serde(default)]
    theme: BTreeMap<String, String>,
    mouse: Option<bool>,
}

/// Settings of one TUI session.
#[derive(Debug, Clone)]
pub struct Config {
    pub keymap: Keymap,
    pub theme: Theme,
    /// Mouse capture at start.
    pub mouse: bool,
}

/// Where the config file lives.
pub fn path() -> PathBuf {
    crate::engine::layout::config_dir().join("tui.toml")
}

/// Loads `path` over the defaults; a missing file means defaults. Errors name the file and
/// what in it is wrong.
pub fn load(path: &Path, theme: Theme) -> Result<Config, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, theme).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config {
            keymap: Keymap::default(),
            theme,
            mouse: true,
        }),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Parses a config file's text over the defaults.
pub fn parse(text: &str, mut theme: Theme) -> Result<Config, String> {
    let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let mut keymap = Keymap::default();
    for (name, spec) in file.keys {
        let action = Action::from_name(&name).ok_or_else(|| {
            let known: Vec<_> = keymap.bindings.iter().map(|b| b.action.name()).collect();
            format!("keys.{name} is not an action (known: {})", known.join(", "))
        })?;
        let specs = match spec {
            KeySpec::One(s) => vec![s],
            KeySpec::Many(v) => v,
        };
        let keys = specs
            .iter()
            .map(|s| Key::parse(s).map_err(|e| format!("keys.{name}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        keymap.rebind(action, keys)?;
    }
    theme.apply(&file.theme)?;
    Ok(Config {
        keymap,
        theme,
        mouse: file.mouse.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Context;

    #[test]
    fn overrides_keys_theme_and_mouse() {
        let c = parse(
            "mouse = false\n[keys]\nquit = \"Q\"\nrestart = [\"R\", \"ctrl-r\"]\n[theme]\nstderr = \"yellow\"\n",
            Theme::default(),
        )
        .unwrap();
        assert!(!c.mouse);
        assert_eq!(
            c.keymap.action(&[Context::Global], Key::ch('Q')),
            Some(Action::Quit)
        );
        assert_eq!(c.keymap.action(&[Context::Global], Key::ch('q')), None);
        assert_eq!(
            c.keymap.action(&[Context::List], Key::ctrl('r')),
            Some(Action::Restart)
        );
        assert_eq!(c.theme.stderr, ratatui::style::Color::Yellow);
    }

    #[test]
    fn errors_name_the_bad_part() {
        let e = parse("[keys]\nfly = \"f\"\n", Theme::default()).unwrap_err();
        assert!(e.contains("keys.fly is not an action"), "{e}");
        let e = parse("[keys]\nquit = \"hyper-q\"\n", Theme::default()).unwrap_err();
        assert!(e.contains("keys.quit"), "{e}");
        let e = parse("colour = 1\n", Theme::default()).unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn missing_file_is_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = load(&dir.path().join("tui.toml"), Theme::default()).unwrap();
        assert!(c.mouse);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[keys\n").unwrap();
        assert!(load(&bad, Theme::default())
            .unwrap_err()
            .contains("bad.toml"));
    }
}
