//! Events of networks and volumes in docker's shape: who the actor is and which attributes
//! docker gives it.

use super::{Event, EventType};
use crate::engine::container::ContainerRecord;
use crate::engine::mounts::MountType;

impl Event {
    /// A network event (`create`, `destroy`): the network's id, with its `name` and `type`.
    pub fn network(id: &str, name: &str, action: &str) -> Event {
        Event::new(EventType::Network, action, id)
            .with("name", name)
            .with("type", "bridge")
    }

    /// `connect`/`disconnect` of container `container_id` on a network.
    pub fn network_endpoint(id: &str, name: &str, action: &str, container_id: &str) -> Event {
        Event::network(id, name, action).with("container", container_id)
    }

    /// `mount` (at a start) or `unmount` (at an exit) of every volume the container uses, with
    /// docker's attributes.
    pub fn volume_mounts(rec: &ContainerRecord, action: &str) -> Vec<Event> {
        rec.mounts
            .iter()
            .filter(|m| m.kind == MountType::Volume && !m.name.is_empty())
            .map(|m| {
                let e = Event::new(EventType::Volume, action, m.name.clone())
                    .with("container", &rec.id)
                    .with("driver", "local");
                if action == "mount" {
                    e.with("destination", &m.destination)
                        .with("propagation", &m.propagation)
                        .with("read/write", m.rw)
                } else {
                    e
                }
            })
            .collect()
    }
}
