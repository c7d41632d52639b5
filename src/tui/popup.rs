//! Popup (dialog) states. Rendering lives in `popups/`, keys in `update_popup.rs`.

use super::input::TextInput;
use super::model::RunSpec;
use super::msg::Kind;

/// The dialog on top of the panes, if any.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help {
        scroll: usize,
    },
    Confirm(Confirm),
    Pull(PullDialog),
    Run(Box<RunForm>),
    Inspect(Inspect),
    Message(Message),
    Prompt(Prompt),
    Form(Box<super::form::Form>),
    /// The progress of the push of this `repo:tag`.
    Push(String),
    /// The build view (`App::build`).
    Build,
    /// The layer explorer (`App::layers`).
    Layers,
    /// The system df view (`App::disk`).
    DiskUsage,
}

/// What a confirm dialog will do.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    RemoveContainers(Vec<String>),
    RemoveImages(Vec<String>),
    RemoveVolumes(Vec<String>),
    RemoveNetworks(Vec<String>),
    /// Pull the run form's image, then run it.
    PullAndRun(Box<RunSpec>),
    Prune(Kind),
    /// `builder prune` (from the system df view).
    PruneBuildCache,
    /// Quit although terminal sessions are open.
    Quit,
}

/// "Remove 3 containers?" with options.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    /// Names of what is affected.
    pub items: Vec<String>,
    pub action: Pending,
    /// `Some` when the action has a force option.
    pub force: Option<bool>,
    /// `Some` when the action can also remove anonymous volumes.
    pub volumes: Option<bool>,
}

/// The pull dialog: a reference input, then the progress of that pull.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullDialog {
    pub input: TextInput,
    /// Set once started: the normalised reference whose progress is shown.
    pub image: Option<String>,
    pub error: Option<String>,
}

/// The run form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunForm {
    /// Image, name, command, env, volumes, ports, network, aliases, workdir, user, memory,
    /// cpus, restart policy.
    pub fields: [TextInput; 13],
    pub detach: bool,
    pub remove: bool,
    /// A terminal and stdin (`-it`).
    pub tty: bool,
    /// 0-12 the text fields, then detach, remove, terminal.
    pub focus: usize,
    pub error: Option<String>,
}

impl RunForm {
    pub const LABELS: [&'static str; 16] = [
        "Image",
        "Name",
        "Command",
        "Env",
        "Volumes",
        "Ports",
        "Network",
        "Aliases",
        "Workdir",
        "User",
        "Memory",
        "CPUs",
        "Restart",
        "Detach",
        "Remove on exit",
        "Terminal (-it)",
    ];
    pub const HINTS: [&'static str; 13] = [
        "e.g. busybox, 127.0.0.1:5000/app:1, or a rootfs dir /srv/root",
        "optional",
        "optional; the image's default when empty",
        "KEY=VALUE KEY2=\"with spaces\"",
        "NAME:/path or /host:/path[:ro]",
        "HOSTPORT:PORT[/udp], e.g. 8000:80 127.0.0.1:5353:53/udp",
        "bridge (default), none, host, or a network's name",
        "optional: other names on a user network, e.g. db primary",
        "optional; the image's when empty",
        "optional: USER[:GROUP], names or ids",
        "optional, e.g. 256m or 1g",
        "optional, e.g. 0.5",
        "no (default), on-failure[:N], always, unless-stopped",
    ];
    pub const FIELDS: usize = 16;
    /// The focus of the toggles.
    pub const DETACH: usize = 13;
    pub const REMOVE: usize = 14;
    pub const TTY: usize = 15;

    pub fn new(image: &str) -> RunForm {
        RunForm {
            fields: [
                TextInput::with(image),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
                TextInput::default(),
            ],
            detach: true,
            remove: false,
            tty: false,
            focus: if image.is_empty() { 0 } else { 1 },
            error: None,
        }
    }

    /// The run request, or what is wrong with the form.
    pub fn spec(&self) -> Result<RunSpec, String> {
        let image = self.fields[0].text.trim();
        if image.is_empty() {
            return Err("Image: give an image to run, e.g. busybox".into());
        }
        // An absolute path is a root filesystem directory (like `run --rootfs`).
        if !image.starts_with('/') {
            crate::engine::ImageRef::parse(image).map_err(|e| format!("Image: {e}"))?;
        }
        let name = self.fields[1].text.trim();
        if !name.is_empty() && !valid_name(name) {
            return Err(format!(
                "Name: {name:?} is not a valid name (letters, digits, _ . -, starting with a letter or digit)"
            ));
        }
        let command = split_words(&self.fields[2].text).map_err(|e| format!("Command: {e}"))?;
        let env = split_words(&self.fields[3].text).map_err(|e| format!("Env: {e}"))?;
        for e in &env {
            match e.split_once('=') {
                Some((k, _)) if !k.is_empty() => {}
                _ => return Err(format!("Env: {e:?} is not KEY=VALUE")),
            }
        }
        let volumes = split_words(&self.fields[4].text).map_err(|e| format!("Volumes: {e}"))?;
        for v in &volumes {
            let parts: Vec<&str> = v.split(':').collect();
            let ok = match parts.as_slice() {
                [src, dst] | [src, dst, "ro" | "rw"] => !src.is_empty() && dst.starts_with('/'),
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "Volumes: {v:?} is not SOURCE:/container/path[:ro] (SOURCE a volume name or an absolute host path)"
                ));
            }
        }
        let ports = split_words(&self.fields[5].text).map_err(|e| format!("Ports: {e}"))?;
        for p in &ports {
            crate::engine::network::ports::parse_publish(p).map_err(|e| format!("Ports: {e}"))?;
        }
        let network = self.fields[6].text.trim();
        if !network.is_empty() {
            network
                .parse::<crate::engine::container::NetworkMode>()
                .map_err(|e| format!("Network: {e}"))?;
        }
        let aliases = split_words(&self.fields[7].text).map_err(|e| format!("Aliases: {e}"))?;
        for a in &aliases {
            if !valid_name(a) {
                return Err(format!(
                    "Aliases: {a:?} is not a valid name (letters, digits, _ . -, starting with a letter or digit)"
                ));
            }
        }
        if !aliases.is_empty() && matches!(network, "" | "bridge" | "default" | "none" | "host") {
            return Err(
                "Aliases: names other containers resolve work on a network you made: give it in Network"
                    .into(),
            );
        }
        let text = |i: usize| {
            let t = self.fields[i].text.trim();
            (!t.is_empty()).then(|| t.to_string())
        };
        let workdir = text(8);
        if let Some(w) = &workdir {
            if !w.starts_with('/') {
                return Err(format!("Workdir: {w:?} is not an absolute path"));
            }
        }
        let memory = match text(10) {
            Some(m) => {
                Some(crate::engine::container::parse_size(&m).map_err(|e| format!("Memory: {e}"))?)
            }
            None => None,
        };
        let cpus = match text(11) {
            Some(c) => match c.parse::<f64>() {
                Ok(v) if v > 0.0 && v.is_finite() => Some(v),
                _ => return Err(format!("CPUs: {c:?} is not a positive number, e.g. 0.5")),
            },
            None => None,
        };
        let restart = text(12);
        if let Some(r) = &restart {
            crate::engine::container::restart_policy::RestartPolicy::parse(r)
                .map_err(|e| format!("Restart: {e}"))?;
            if self.remove && r != "no" {
                return Err(
                    "Restart: a container removed on exit cannot restart; untick Remove on exit"
                        .into(),
                );
            }
        }
        Ok(RunSpec {
            workdir,
            user: text(9),
            memory,
            cpus,
            restart,
            tty: self.tty,
            image: image.to_string(),
            name: (!name.is_empty()).then(|| name.to_string()),
            command,
            env,
            volumes,
            ports,
            network: (!network.is_empty()).then(|| network.to_string()),
            aliases,
            detach: self.detach,
            remove: self.remove,
        })
    }
}

/// Docker's container and volume name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Splits like a shell: whitespace separates words, quotes group, backslash escapes.
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => match chars.next() {
                Some(n) => {
                    cur.push(n);
                    in_word = true;
                }
                None => return Err("a trailing backslash escapes nothing".into()),
            },
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("the quote {q} is never closed"));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// The inspect popup: JSON, scrollable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspect {
    pub title: String,
    /// `None` while loading.
    pub text: Option<Result<String, String>>,
    pub scroll: usize,
    /// The search being typed (`/`), if any.
    pub search: Option<super::input::TextInput>,
    /// The kept search: matches are highlighted and `n`/`N` jump between them.
    pub query: String,
    /// The line of the match last jumped to.
    pub hit: Option<usize>,
}

/// A message (errors stay until closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub text: String,
    pub error: bool,
    /// First wrapped line shown.
    pub scroll: usize,
}

/// What a one-line prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFor {
    CreateVolume,
    SaveLogs,
    /// A command to run in container `id` (named `name`).
    Exec {
        id: String,
        name: String,
    },
}

/// A one-line question (volume name, file to save to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub title: String,
    pub label: String,
    pub input: TextInput,
    pub purpose: PromptFor,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words(" sh -c 'echo a  b' ").unwrap(),
            ["sh", "-c", "echo a  b"]
        );
        assert_eq!(split_words(r#"A="x y" B=\"q"#).unwrap(), ["A=x y", "B=\"q"]);
        assert_eq!(split_words("''").unwrap(), [""]);
        assert!(split_words("'open").unwrap_err().contains("never closed"));
        assert!(split_words("x\\").is_err());
    }

    #[test]
    fn run_form_validates_every_field() {
        let mut f = RunForm::new("");
        assert!(f.spec().unwrap_err().starts_with("Image:"));
        f.fields[0] = TextInput::with("busybox");
        f.fields[1] = TextInput::with("-bad");
        assert!(f.spec().unwrap_err().starts_with("Name:"));
        f.fields[1] = TextInput::with("web.1");
        f.fields[3] = TextInput::with("NOEQUALS");
        assert!(f.spec().unwrap_err().starts_with("Env:"));
        f.fields[3] = TextInput::with("A=1 'B=two words'");
        f.fields[4] = TextInput::with("data:relative");
        assert!(f.spec().unwrap_err().starts_with("Volumes:"));
        f.fields[4] = TextInput::with("data:/data /srv:/srv:ro");
        f.fields[5] = TextInput::with("8000:80 70000:1");
        assert!(f.spec().unwrap_err().starts_with("Ports:"));
        f.fields[5] = TextInput::with("8000:80 127.0.0.1:5353:53/udp");
        f.fields[6] = TextInput::with("a b");
        assert!(f.spec().unwrap_err().starts_with("Network:"));
        f.fields[6] = TextInput::with("backend");
        f.fields[7] = TextInput::with("db -x");
        assert!(f.spec().unwrap_err().starts_with("Aliases:"));
        f.fields[7] = TextInput::with("db primary");
        f.fields[2] = TextInput::with("sh -c 'sleep 1'");
        let s = f.spec().unwrap();
        assert_eq!(s.ports, ["8000:80", "127.0.0.1:5353:53/udp"]);
        assert_eq!(s.network.as_deref(), Some("backend"));
        assert_eq!(s.aliases, ["db", "primary"]);
        assert_eq!(s.name.as_deref(), Some("web.1"));
        assert_eq!(s.command, ["sh", "-c", "sleep 1"]);
        assert_eq!(s.env, ["A=1", "B=two words"]);
        assert_eq!(s.volumes.len(), 2);
        assert!(s.detach && !s.remove);
    }
}
