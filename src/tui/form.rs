//! A small form of text fields and toggles, for what the TUI asks before acting: create a
//! network, commit a container, push, save, load, export, copy files, build. Its state lives
//! here, its keys in `update_form.rs`, its drawing in `popups/form.rs`.

use super::input::TextInput;

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(TextInput),
    Toggle(bool),
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    /// Shown, dimmed, while the field is empty.
    pub hint: &'static str,
    pub value: Value,
}

impl Field {
    pub fn text(label: &'static str, hint: &'static str, text: &str) -> Field {
        Field {
            label,
            hint,
            value: Value::Text(TextInput::with(text)),
        }
    }

    pub fn toggle(label: &'static str, on: bool) -> Field {
        Field {
            label,
            hint: "",
            value: Value::Toggle(on),
        }
    }
}

/// What the form is for, with the object it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormFor {
    CreateNetwork,
    Push,
    Save,
    Load,
    Export { id: String, name: String },
    Copy { id: String, name: String },
    Commit { id: String, name: String },
    Build,
}

/// Hint of a host path field.
const HOST_PATH: &str = "a host path: absolute, or relative to where berth started";

/// The form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub purpose: FormFor,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Why the last submit was refused (or the action failed).
    pub error: Option<String>,
    /// The key hint at the bottom ("Enter create").
    pub verb: &'static str,
}

impl Form {
    fn new(title: String, purpose: FormFor, verb: &'static str, fields: Vec<Field>) -> Form {
        Form {
            title,
            purpose,
            fields,
            focus: 0,
            error: None,
            verb,
        }
    }

    /// `network create NAME [--subnet] [--internal]`.
    pub fn create_network() -> Form {
        Form::new(
            "Create network".into(),
            FormFor::CreateNetwork,
            "create",
            vec![
                Field::text("Name", "letters, digits, _ . -", ""),
                Field::text(
                    "Subnet",
                    "optional, e.g. 172.30.0.0/16 (a free one when empty)",
                    "",
                ),
                Field::toggle("Internal (no route out)", false),
            ],
        )
    }

    /// `push [--tls-verify=false] IMAGE`: the image's `registry/repo:tag`.
    pub fn push(image: &str) -> Form {
        Form::new(
            "Push image".into(),
            FormFor::Push,
            "push",
            vec![
                Field::text(
                    "Image",
                    "REGISTRY/REPO:TAG, e.g. 127.0.0.1:5000/team/app:1",
                    image,
                ),
                // `--tls-verify=false`: a registry with a self-signed certificate, or plain http.
                Field::toggle("Skip TLS verification", false),
            ],
        )
    }

    /// `save -o FILE IMAGE`.
    pub fn save(image: &str) -> Form {
        Form::new(
            "Save image to a file".into(),
            FormFor::Save,
            "save",
            vec![
                Field::text("Image", "a name or id", image),
                Field::text("File", HOST_PATH, ""),
            ],
        )
    }

    /// `load -i FILE`.
    pub fn load() -> Form {
        Form::new(
            "Load images from a file".into(),
            FormFor::Load,
            "load",
            vec![Field::text(
                "File",
                "a docker or OCI archive (tar, gzip or zstd), or an OCI layout directory",
                "",
            )],
        )
    }

    /// `export -o FILE CONTAINER`.
    pub fn export(id: &str, name: &str) -> Form {
        Form::new(
            format!("Export {name}'s filesystem to a tar file"),
            FormFor::Export {
                id: id.into(),
                name: name.into(),
            },
            "export",
            vec![Field::text("File", HOST_PATH, "")],
        )
    }

    /// `cp` out of or into a container.
    pub fn copy(id: &str, name: &str) -> Form {
        Form::new(
            format!("Copy files of {name}"),
            FormFor::Copy {
                id: id.into(),
                name: name.into(),
            },
            "copy",
            vec![
                Field::toggle("Into the container", false),
                Field::text(
                    "Container path",
                    "e.g. /etc/hosts or /data/. (its contents)",
                    "",
                ),
                Field::text("Host path", HOST_PATH, ""),
            ],
        )
    }

    /// `commit CONTAINER [REPO[:TAG]] -m MSG`.
    pub fn commit(id: &str, name: &str) -> Form {
        Form::new(
            format!("Commit {name} to an image"),
            FormFor::Commit {
                id: id.into(),
                name: name.into(),
            },
            "commit",
            vec![
                Field::text(
                    "Repository:tag",
                    "optional, e.g. app:2 or 127.0.0.1:5000/app:2",
                    "",
                ),
                Field::text("Message", "optional: the history entry's comment", ""),
                Field::text("Author", "optional", ""),
            ],
        )
    }

    /// `build [-f FILE] [-t TAG]… [--build-arg K=V]… [--no-cache] CONTEXT`.
    pub fn build() -> Form {
        Form::new(
            "Build an image".into(),
            FormFor::Build,
            "build",
            vec![
                Field::text(
                    "Context",
                    "the directory the Dockerfile's COPY reads from",
                    "",
                ),
                Field::text("Dockerfile", "optional: CONTEXT/Dockerfile when empty", ""),
                Field::text("Tags", "optional: app:1 app:latest", ""),
                Field::text("Build args", "optional: VERSION=1.2 MODE=\"two words\"", ""),
                Field::toggle("No cache", false),
            ],
        )
    }

    /// The trimmed text of field `i` (empty for a toggle).
    pub fn text(&self, i: usize) -> &str {
        match self.fields.get(i).map(|f| &f.value) {
            Some(Value::Text(t)) => t.text.trim(),
            _ => "",
        }
    }

    /// The text of field `i`, `None` when empty.
    pub fn optional(&self, i: usize) -> Option<String> {
        let t = self.text(i);
        (!t.is_empty()).then(|| t.to_string())
    }

    /// Whether toggle `i` is on.
    pub fn on(&self, i: usize) -> bool {
        matches!(
            self.fields.get(i).map(|f| &f.value),
            Some(Value::Toggle(true))
        )
    }
}
