//! `events --filter`: docker's keys (`type`, `event`, `container`, `image`, `label`, `volume`,
//! `network`); values of one key are alternatives, different keys must all match.

use std::collections::BTreeMap;

use super::{Event, EventType};
use crate::engine::error::{EngineError, Result};

/// The filters of one `events` call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    by_key: BTreeMap<String, Vec<String>>,
}

const KEYS: [&str; 7] = [
    "type",
    "event",
    "container",
    "image",
    "label",
    "volume",
    "network",
];

impl EventFilter {
    /// Parses `KEY=VALUE` filters.
    pub fn parse(filters: &[String]) -> Result<EventFilter> {
        let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in filters {
            let Some((k, v)) = f.split_once('=') else {
                return Err(EngineError::InvalidInput(format!(
                    "bad format of filter (expected name=value): {f}"
                )));
            };
            let k = k.trim().to_ascii_lowercase();
            if !KEYS.contains(&k.as_str()) {
                return Err(EngineError::InvalidInput(format!(
                    "invalid filter '{k}': use one of {}",
                    KEYS.join(", ")
                )));
            }
            if k == "type" && EventType::parse(v).is_none() {
                return Err(EngineError::InvalidInput(format!(
                    "invalid filter 'type={v}': use container, image, volume or network"
                )));
            }
            by_key.entry(k).or_default().push(v.to_string());
        }
        Ok(EventFilter { by_key })
    }

    /// Whether `e` passes every key.
    pub fn matches(&self, e: &Event) -> bool {
        self.by_key.iter().all(|(k, values)| {
            values.iter().any(|v| match k.as_str() {
                "type" => e.kind.as_str() == v,
                // `exec_create: ls` is an `exec_create` event.
                "event" => e.action == *v || e.action.split(':').next() == Some(v.as_str()),
                "container" => {
                    e.kind == EventType::Container
                        && (e.attributes.get("name") == Some(v)
                            || (!v.is_empty() && e.actor_id.starts_with(v.as_str())))
                }
                "image" => image_matches(e, v),
                "label" => label_matches(&e.attributes, v),
                "volume" => e.kind == EventType::Volume && e.actor_id == *v,
                "network" => {
                    e.kind == EventType::Network
                        && (e.actor_id == *v || e.attributes.get("name") == Some(v))
                }
                _ => false,
            })
        })
    }
}

/// An image filter matches a container's `image`, an image event's id or `name`, with or
/// without the `:latest` tag.
fn image_matches(e: &Event, v: &str) -> bool {
    let same = |s: &str| {
        s == v
            || s.strip_suffix(":latest") == Some(v)
            || (s.starts_with("sha256:") && s.strip_prefix("sha256:") == Some(v))
    };
    match e.kind {
        EventType::Container => e.attributes.get("image").is_some_and(|i| same(i)),
        EventType::Image => same(&e.actor_id) || e.attributes.get("name").is_some_and(|n| same(n)),
        _ => false,
    }
}

/// `label=KEY` or `label=KEY=VALUE`.
fn label_matches(attributes: &BTreeMap<String, String>, v: &str) -> bool {
    match v.split_once('=') {
        Some((k, val)) => attributes.get(k).is_some_and(|a| a == val),
        None => attributes.contains_key(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventType, action: &str, id: &str, attrs: &[(&str, &str)]) -> Event {
        let mut e = Event::new(kind, action, id);
        for (k, v) in attrs {
            e = e.with(k, v);
        }
        e
    }

    fn f(list: &[&str]) -> EventFilter {
        EventFilter::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn keys_and_alternatives() {
        let start = ev(
            EventType::Container,
            "start",
            "abcdef",
            &[
                ("name", "web"),
                ("image", "busybox:latest"),
                ("tier", "front"),
            ],
        );
        let exec = ev(
            EventType::Container,
            "exec_create: ls -l",
            "abcdef",
            &[("name", "web")],
        );
        let pull = ev(
            EventType::Image,
            "pull",
            "busybox:latest",
            &[("name", "busybox")],
        );
        assert!(f(&[]).matches(&start));
        assert!(f(&["type=container"]).matches(&start));
        assert!(!f(&["type=image"]).matches(&start));
        assert!(f(&["event=start", "event=die"]).matches(&start));
        assert!(!f(&["event=die"]).matches(&start));
        assert!(f(&["event=exec_create"]).matches(&exec));
        assert!(f(&["container=web"]).matches(&start));
        assert!(f(&["container=abc"]).matches(&start));
        assert!(!f(&["container=other"]).matches(&start));
        assert!(f(&["image=busybox"]).matches(&start));
        assert!(f(&["image=busybox"]).matches(&pull));
        assert!(f(&["label=tier"]).matches(&start));
        assert!(f(&["label=tier=front"]).matches(&start));
        assert!(!f(&["label=tier=back"]).matches(&start));
        // Different keys must all match.
        assert!(!f(&["type=container", "event=die"]).matches(&start));
        assert!(!f(&["container=web"]).matches(&pull));
    }

    #[test]
    fn bad_filters_are_named() {
        let e = EventFilter::parse(&["nope=1".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
        let e = EventFilter::parse(&["type=thing".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("thing"), "{e}");
        let e = EventFilter::parse(&["noequals".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("name=value"), "{e}");
    }
}
