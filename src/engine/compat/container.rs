//! A container's inspect object in docker's shape: the record's own fields, with the image's
//! `ExposedPorts`, `Volumes` and `Healthcheck` in `Config` (a container's start as its image's),
//! its labels (the image's with `--label` applied) and `NetworkSettings` as docker prints it.

use serde_json::{Map, Value};

use crate::engine::container::{self as ct, ContainerRecord, Status};
use crate::engine::Engine;

/// The image config fields a container's `Config` carries.
const FROM_IMAGE: &[&str] = &["Labels", "ExposedPorts", "Volumes", "Healthcheck"];

/// `inspect` of container `rec`.
pub fn inspect(engine: &Engine, rec: &ContainerRecord) -> Value {
    let mut v = ct::inspect_json(engine, rec);
    let image_config = if rec.image_id.is_empty() {
        None
    } else {
        engine
            .inspect_image(&rec.image_id)
            .ok()
            .and_then(|i| i.get("Config").cloned())
    };
    if let Some(Value::Object(config)) = v.get_mut("Config") {
        for key in FROM_IMAGE {
            // The record's labels are the image's with `--label` applied; only a record from
            // before labels were recorded (none at all) shows its image's.
            if *key == "Labels" && !rec.config.labels.is_empty() {
                config.insert(
                    key.to_string(),
                    serde_json::to_value(&rec.config.labels).unwrap_or_default(),
                );
                continue;
            }
            // A record's own health check (the image's with the flags applied) stands; one
            // from before health checks were recorded shows its image's.
            if *key == "Healthcheck" && config.contains_key("Healthcheck") {
                continue;
            }
            let from_image = image_config
                .as_ref()
                .and_then(|c| c.get(*key))
                .filter(|x| !x.is_null())
                .cloned();
            match (from_image, *key) {
                (Some(x), _) => {
                    config.insert(key.to_string(), x);
                }
                // Docker always shows Labels, as an object.
                (None, "Labels") => {
                    config.insert(key.to_string(), Value::Object(Map::new()));
                }
                (None, _) => {}
            }
        }
    }
    let running = matches!(rec.state.status, Status::Running | Status::Paused);
    let own_netns = crate::engine::network::netns::path(engine.layout(), &rec.id);
    let sandbox_key = if running && crate::engine::network::netns::is_mounted(&own_netns) {
        own_netns.display().to_string()
    } else if running && rec.state.pid > 0 {
        format!("/proc/{}/ns/net", rec.state.pid)
    } else {
        String::new()
    };
    let (endpoints, published) = if running {
        use crate::engine::network::store::NetworkStore;
        engine
            .state()
            .read(|tx| {
                Ok((
                    NetworkStore::of(tx).endpoints_of(&rec.id)?,
                    NetworkStore::of(tx).ports_of(&rec.id)?,
                ))
            })
            .unwrap_or_default()
    } else {
        Default::default()
    };
    let settings = super::network::settings(rec, sandbox_key, &endpoints, &published);
    v["NetworkSettings"] = serde_json::to_value(settings).unwrap_or(Value::Null);
    v
}
