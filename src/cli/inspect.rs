//! `inspect [-f FORMAT] [--type container|image|volume|network] NAME…` (docker's, finding any object)
//! and the printing shared by `container|image|volume inspect`.

use clap::Args;
use serde_json::Value;

use super::block_on;
use super::format::Format;

use crate::engine::{Engine, EngineError, ErrorKind};

/// `inspect` and `container inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format the output: json (default) or a Go template ('{{.State.Running}}')
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Only objects of this type: container, image, volume or network
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Add the container's sizes (SizeRw, SizeRootFs) to its object
    #[arg(short, long)]
    pub size: bool,
    /// Object names or ids
    #[arg(required = true, value_name = "NAME|ID")]
    pub targets: Vec<String>,
}

/// The kinds of object `inspect` finds, in docker's order of search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Image,
    Volume,
    Network,
}

impl Kind {
    fn parse(kind: Option<&str>) -> Result<Vec<Kind>, EngineError> {
        match kind {
            None => Ok(vec![
                Kind::Container,
                Kind::Image,
                Kind::Volume,
                Kind::Network,
            ]),
            Some("container") => Ok(vec![Kind::Container]),
            Some("image") => Ok(vec![Kind::Image]),
            Some("volume") => Ok(vec![Kind::Volume]),
            Some("network") => Ok(vec![Kind::Network]),
            Some(other) => Err(EngineError::InvalidInput(format!(
                "\"{other}\" is not a valid value for --type: use container, image, volume or \
                 network"
            ))),
        }
    }
}

/// The printed form of inspected objects: a JSON array, or each through the template.
pub fn print(format: &Format, found: &[Value]) -> Result<String, EngineError> {
    match format {
        Format::Default | Format::Json => Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(found).map_err(EngineError::from)?
        )),
        Format::Template { .. } => {
            let mut out = String::new();
            for v in found {
                out.push_str(&format.render(v)?);
                out.push('\n');
            }
            Ok(out)
        }
    }
}

/// The object named `name` among `kinds`, or the not-found error of the last kind tried.
fn find(engine: &Engine, kinds: &[Kind], name: &str, size: bool) -> Result<Value, EngineError> {
    let mut missing = EngineError::NotFound(format!("No such object: {name}"));
    for kind in kinds {
        let found = match kind {
            Kind::Container => block_on(engine.inspect_container_sized(name.to_string(), size))
                .and_then(|v| serde_json::to_value(v).map_err(EngineError::from)),
            Kind::Image => block_on(engine.image_inspect(name.to_string()))
                .and_then(|v| serde_json::to_value(v).map_err(EngineError::from)),
            Kind::Volume => block_on(engine.inspect_volume(name.to_string()))
                .and_then(|v| serde_json::to_value(v).map_err(EngineError::from)),
            Kind::Network => block_on(engine.network_inspect(name.to_string()))
                .and_then(|v| serde_json::to_value(v).map_err(EngineError::from)),
        };
        match found {
            Ok(v) => return Ok(v),
            // A name that is no image reference is simply not an image.
            Err(e) if e.is(ErrorKind::NotFound) || e.is(ErrorKind::InvalidInput) => missing = e,
            Err(e) => return Err(e),
        }
    }
    if kinds.len() > 1 {
        // Docker's word when it looked for every kind.
        missing = EngineError::NotFound(format!("No such object: {name}"));
    }
    Err(missing)
}

/// Runs `inspect` over `kinds` (every kind unless `--type`); exit 1 when an object is missing,
/// after printing the others, as docker.
pub fn run(engine: &Engine, a: &InspectArgs, only: Option<Kind>) -> anyhow::Result<i32> {
    let format = Format::parse(a.format.as_deref())?;
    let kinds = match only {
        Some(k) => vec![k],
        None => Kind::parse(a.kind.as_deref())?,
    };
    let mut found = Vec::new();
    let mut code = 0;
    for name in &a.targets {
        match find(engine, &kinds, name, a.size) {
            Ok(v) => found.push(v),
            Err(e) if e.is(ErrorKind::NotFound) || e.is(ErrorKind::InvalidInput) => {
                eprintln!("Error: {e}");
                code = 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    print!("{}", print(&format, &found)?);
    Ok(code)
}
