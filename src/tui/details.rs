//! The details pane's tabs: a summary from the list row, and views of the selected object's
//! inspect data (environment, mounts, labels, network, processes, layers) fetched when the tab
//! is shown, and for processes refreshed every two seconds while shown; the graphs of a
//! container's recent resource use (`tui::graphs`, drawn by `panes::graphs`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::app::{App, Pane};
use super::msg::{Cmd, JobId, Kind};

/// Seconds between refreshes of the processes tab.
const TOP_EVERY_SECS: i64 = 2;

/// A tab of the details pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Summary,
    Env,
    Mounts,
    Labels,
    Network,
    Processes,
    /// CPU, memory, network and block I/O of the last minutes (containers).
    Graphs,
    History,
    Layers,
}

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Summary => "Summary",
            Tab::Env => "Env",
            Tab::Mounts => "Mounts",
            Tab::Labels => "Labels",
            Tab::Network => "Networks",
            Tab::Processes => "Processes",
            Tab::Graphs => "Graphs",
            Tab::History => "History",
            Tab::Layers => "Layers",
        }
    }

    /// The tabs an object of `kind` has.
    pub fn all(kind: Kind) -> &'static [Tab] {
        match kind {
            Kind::Container => &[
                Tab::Summary,
                Tab::Env,
                Tab::Mounts,
                Tab::Labels,
                Tab::Network,
                Tab::Processes,
                Tab::Graphs,
            ],
            Kind::Image => &[
                Tab::Summary,
                Tab::Env,
                Tab::Labels,
                Tab::History,
                Tab::Layers,
            ],
            Kind::Volume => &[Tab::Summary, Tab::Labels],
            Kind::Network => &[Tab::Summary, Tab::Labels],
        }
    }
}

/// The details pane's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    /// The tab shown (for containers; images and volumes fall back to one they have).
    pub tab: Tab,
    /// The object the data below belongs to.
    pub target: Option<(Kind, String)>,
    pub job: JobId,
    /// The object's inspect, `None` while loading.
    pub data: Option<Result<Value, String>>,
    /// Processes: a header row then one row a process.
    pub top: Option<Result<Vec<Vec<String>>, String>>,
    pub top_job: JobId,
    pub top_target: Option<String>,
    pub top_at: Option<DateTime<Utc>>,
}

impl Details {
    /// The tab shown for an object of `kind`.
    pub fn tab_for(&self, kind: Kind) -> Tab {
        if Tab::all(kind).contains(&self.tab) {
            self.tab
        } else {
            Tab::Summary
        }
    }
}

/// The kind and id of the object whose details are shown.
pub fn selected(app: &App) -> Option<(Kind, String)> {
    match app.pane {
        Pane::Containers | Pane::Logs => app
            .containers
            .selected_item()
            .map(|c| (Kind::Container, c.id.clone())),
        Pane::Images => app
            .images
            .selected_item()
            .map(|i| (Kind::Image, i.id.clone())),
        Pane::Volumes => app
            .volumes
            .selected_item()
            .map(|v| (Kind::Volume, v.name.clone())),
        Pane::Networks => app
            .networks
            .selected_item()
            .map(|n| (Kind::Network, n.id.clone())),
        Pane::Events => None,
    }
}

/// Moves to the next tab the selected object has.
pub fn next_tab(app: &mut App) -> Vec<Cmd> {
    let kind = selected(app).map_or(Kind::Container, |(k, _)| k);
    let tabs = Tab::all(kind);
    let current = app.details.tab_for(kind);
    let at = tabs.iter().position(|t| *t == current).unwrap_or(0);
    app.details.tab = tabs[(at + 1) % tabs.len()];
    if !super::view::details_shown(app) {
        app.say(format!(
            "details: {} (shown beside the list on a screen 100 columns wide)",
            app.details.tab.title()
        ));
    }
    Vec::new()
}

/// The loads the details pane needs now: the inspect of a newly selected object when a tab
/// other than the summary is shown, and the processes every two seconds while shown.
pub fn sync(app: &mut App) -> Vec<Cmd> {
    if !super::view::details_shown(app) {
        return Vec::new();
    }
    let Some((kind, id)) = selected(app) else {
        return Vec::new();
    };
    let tab = app.details.tab_for(kind);
    let mut cmds = Vec::new();
    // The graphs come from the stats poller's samples: nothing to load.
    let loads = tab != Tab::Summary && tab != Tab::Graphs;
    if loads && app.details.target.as_ref() != Some(&(kind, id.clone())) {
        app.details.job = app.job();
        app.details.target = Some((kind, id.clone()));
        app.details.data = None;
        cmds.push(Cmd::Details {
            job: app.details.job,
            kind,
            id: id.clone(),
        });
    }
    if tab == Tab::History && app.details.top_target.as_deref() != Some(id.as_str()) {
        // An image's history does not change: loaded once a selection.
        app.details.top = None;
        app.details.top_job = app.job();
        app.details.top_target = Some(id.clone());
        cmds.push(Cmd::History {
            job: app.details.top_job,
            image: id.clone(),
        });
    }
    if tab == Tab::Processes {
        let due = app.details.top_target.as_deref() != Some(id.as_str())
            || app
                .details
                .top_at
                .is_some_and(|at| (app.now - at).num_seconds() >= TOP_EVERY_SECS);
        if due {
            if app.details.top_target.as_deref() != Some(id.as_str()) {
                app.details.top = None;
            }
            app.details.top_job = app.job();
            app.details.top_target = Some(id.clone());
            // Not due again until this answer came.
            app.details.top_at = None;
            cmds.push(Cmd::Top {
                job: app.details.top_job,
                id,
            });
        }
    }
    cmds
}

/// The rows a data tab shows (label, value), from the object's inspect.
pub fn rows(tab: Tab, kind: Kind, v: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let config = if kind == Kind::Container || kind == Kind::Image {
        &v["Config"]
    } else {
        v
    };
    match tab {
        Tab::Env => config["Env"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let e = text(e);
                match e.split_once('=') {
                    Some((k, val)) => (k.to_string(), val.to_string()),
                    None => (e, String::new()),
                }
            })
            .collect(),
        Tab::Labels => config["Labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, val)| (k.clone(), text(val)))
            .collect(),
        Tab::Mounts => v["Mounts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                let source = match m["Name"].as_str() {
                    Some(name) if !name.is_empty() => format!("volume {name}"),
                    _ => text(&m["Source"]),
                };
                let mode = if m["RW"] == Value::Bool(false) {
                    " (ro)"
                } else {
                    ""
                };
                (text(&m["Destination"]), format!("{source}{mode}"))
            })
            .collect(),
        Tab::Network => {
            let ns = &v["NetworkSettings"];
            let mut out = vec![("Mode".to_string(), text(&v["HostConfig"]["NetworkMode"]))];
            for (name, n) in ns["Networks"].as_object().into_iter().flatten() {
                let ip = text(&n["IPAddress"]);
                let mut parts = vec![match n["IPPrefixLen"].as_u64() {
                    _ if ip.is_empty() => "-".to_string(),
                    Some(p) if p > 0 => format!("{ip}/{p}"),
                    _ => ip,
                }];
                let gateway = text(&n["Gateway"]);
                if !gateway.is_empty() {
                    parts.push(format!("gateway {gateway}"));
                }
                let mac = text(&n["MacAddress"]);
                if !mac.is_empty() {
                    parts.push(format!("mac {mac}"));
                }
                let names: Vec<String> = n["Aliases"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect();
                if !names.is_empty() {
                    parts.push(format!("aliases {}", names.join(", ")));
                }
                out.push((format!("Network {name}"), parts.join(" · ")));
            }
            for (port, bindings) in ns["Ports"].as_object().into_iter().flatten() {
                let to: Vec<String> = bindings
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| format!("{}:{}", text(&b["HostIp"]), text(&b["HostPort"])))
                    .collect();
                let to = if to.is_empty() {
                    "not published".to_string()
                } else {
                    to.join(", ")
                };
                out.push((format!("Port {port}"), to));
            }
            out
        }
        Tab::Layers => v["RootFS"]["Layers"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(n, l)| (format!("{}", n + 1), text(l)))
            .collect(),
        Tab::Summary | Tab::Processes | Tab::History | Tab::Graphs => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_come_from_docker_shaped_inspect() {
        let c = json!({
            "Config": {"Env": ["PATH=/bin", "EMPTY="], "Labels": {"tier": "web"}},
            "Mounts": [{"Name": "data", "Source": "/x", "Destination": "/data", "RW": true},
                       {"Name": "", "Source": "/etc/app", "Destination": "/cfg", "RW": false}],
            "HostConfig": {"NetworkMode": "bridge"},
            "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "10.88.0.2"}},
                                "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                                          "443/tcp": null}},
        });
        let r = |t| rows(t, Kind::Container, &c);
        assert_eq!(
            r(Tab::Env),
            vec![
                ("PATH".into(), "/bin".into()),
                ("EMPTY".into(), String::new())
            ]
        );
        assert_eq!(r(Tab::Labels), vec![("tier".into(), "web".into())]);
        assert_eq!(
            r(Tab::Mounts),
            vec![
                ("/data".into(), "volume data".into()),
                ("/cfg".into(), "/etc/app (ro)".into())
            ]
        );
        let net = r(Tab::Network);
        assert!(net.contains(&("Network bridge".into(), "10.88.0.2".into())));
        let on_user_net = json!({
            "HostConfig": {"NetworkMode": "backend"},
            "NetworkSettings": {"Networks": {"backend": {
                "IPAddress": "172.30.0.2", "IPPrefixLen": 16, "Gateway": "172.30.0.1",
                "MacAddress": "aa:bb:cc:dd:ee:ff", "Aliases": ["db", "primary"]}}},
        });
        assert_eq!(
            rows(Tab::Network, Kind::Container, &on_user_net)[1],
            (
                "Network backend".into(),
                "172.30.0.2/16 · gateway 172.30.0.1 · mac aa:bb:cc:dd:ee:ff · aliases db, primary"
                    .into()
            )
        );
        assert!(net.contains(&("Port 80/tcp".into(), "0.0.0.0:8080".into())));
        assert!(net.contains(&("Port 443/tcp".into(), "not published".into())));
        let img = json!({"RootFS": {"Layers": ["sha256:aa", "sha256:bb"]}});
        assert_eq!(rows(Tab::Layers, Kind::Image, &img)[1].1, "sha256:bb");
        let vol = json!({"Labels": {"a": "b"}});
        assert_eq!(
            rows(Tab::Labels, Kind::Volume, &vol),
            vec![("a".into(), "b".into())]
        );
    }
}
