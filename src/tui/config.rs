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

use super::keymap::{Action, Context, Key, Keymap};
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
    // The keys the file gives, per context, and to which action: one key, one action.
    let mut given: Vec<(Context, Key, Action)> = Vec::new();
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
        let ctx = keymap.binding(action).map(|b| b.context);
        for key in &keys {
            if let Some((_, _, other)) = given
                .iter()
                .find(|(c, k, a)| Some(*c) == ctx && k == key && *a != action)
            {
                return Err(format!(
                    "key {:?} is bound to two actions, keys.{} and keys.{name}; give each \
                     action its own key",
                    key.label(),
                    other.name()
                ));
            }
            if let Some(c) = ctx {
                given.push((c, *key, action));
            }
        }
        keymap.rebind(action, keys)?;
    }
    check_quit(&keymap)?;
    theme.apply(&file.theme)?;
    Ok(Config {
        keymap,
        theme,
        mouse: file.mouse.unwrap_or(true),
    })
}

/// Refuses a keymap that leaves no way to quit from the lists: `quit` needs a key that no list
/// or logs binding (which are looked up before the global ones) takes over.
fn check_quit(keymap: &Keymap) -> Result<(), String> {
    let keys = keymap
        .binding(Action::Quit)
        .map(|b| b.keys.clone())
        .unwrap_or_default();
    let usable = keys.iter().any(|k| {
        keymap.action(&[Context::Logs, Context::List, Context::Global], *k) == Some(Action::Quit)
            && keymap.action(&[Context::List, Context::Global], *k) == Some(Action::Quit)
    });
    if usable {
        return Ok(());
    }
    let taken: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            let by = keymap.action(&[Context::Logs, Context::List], *k)?;
            Some(format!("{:?} by keys.{}", k.label(), by.name()))
        })
        .collect();
    Err(if taken.is_empty() {
        "keys.quit: no key is left to quit berth; bind one, e.g. quit = [\"q\", \"ctrl-c\"]"
            .to_string()
    } else {
        format!(
            "keys.quit: no key is left to quit berth (taken: {}); bind quit to a free key",
            taken.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_key_for_two_actions_or_no_quit_key_is_refused() {
        let e = parse(
            "[keys]\nrestart = \"x\"\nkill = [\"K\", \"x\"]\n",
            Theme::default(),
        )
        .unwrap_err();
        assert!(
            e.contains("key \"x\" is bound to two actions") && e.contains("keys.restart"),
            "{e}"
        );
        let e = parse("[keys]\nquit = []\n", Theme::default()).unwrap_err();
        assert!(e.contains("keys.quit: no key is left"), "{e}");
        let e = parse("[keys]\nquit = \"x\"\nremove = \"x\"\n", Theme::default()).unwrap_err();
        assert!(e.contains("keys.quit") && e.contains("keys.remove"), "{e}");
        // Taking a default key of another action is still fine.
        parse("[keys]\nhelp = \"q\"\nquit = \"Q\"\n", Theme::default()).unwrap();
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
