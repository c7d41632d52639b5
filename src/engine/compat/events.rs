//! Docker's event message (`events --format '{{json .}}'`, the API's `/events`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::journal::{Event, EventType};

/// Docker's `events.Message`, with its legacy `status`/`id`/`from` for containers and images.
#[derive(Debug, Clone, Serialize)]
pub struct EventMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    pub scope: String,
    /// Unix seconds.
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

/// The object of an event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    pub attributes: BTreeMap<String, String>,
}

impl From<&Event> for EventMessage {
    fn from(e: &Event) -> EventMessage {
        let legacy = matches!(e.kind, EventType::Container | EventType::Image);
        EventMessage {
            status: legacy.then(|| e.action.clone()),
            id: legacy.then(|| e.actor_id.clone()),
            from: (e.kind == EventType::Container)
                .then(|| e.attributes.get("image").cloned())
                .flatten(),
            kind: e.kind.as_str().to_string(),
            action: e.action.clone(),
            actor: EventActor {
                id: e.actor_id.clone(),
                attributes: e.attributes.clone(),
            },
            scope: "local".into(),
            time: e.time.timestamp(),
            time_nano: e.time.timestamp_nanos_opt().unwrap_or(0),
        }
    }
}
