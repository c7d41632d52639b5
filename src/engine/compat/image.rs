//! An image's inspect object in docker's shape ([`ImageInspect`]), fields in docker's order.

use serde::Serialize;
use serde_json::Value;

/// Docker's `image inspect` object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    pub comment: String,
    pub created: String,
    pub author: String,
    /// The config blob's own `config` section (every field kept), or berth's parsed copy.
    pub config: Value,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    pub size: u64,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
    pub metadata: ImageMetadata,
}

/// The image's layers by diff id.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub layers: Vec<String>,
}

/// When the image was last tagged (pulled, loaded, built).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageMetadata {
    pub last_tag_time: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_inspect_has_dockers_names_in_dockers_order() {
        let v = ImageInspect {
            id: "sha256:ab".into(),
            repo_tags: vec!["busybox:latest".into()],
            repo_digests: Vec::new(),
            parent: String::new(),
            comment: String::new(),
            created: "2024-01-01T00:00:00Z".into(),
            author: String::new(),
            config: serde_json::json!({"Cmd": ["sh"]}),
            architecture: "amd64".into(),
            variant: None,
            os: "linux".into(),
            size: 4096,
            root_fs: RootFs {
                kind: "layers".into(),
                layers: vec!["sha256:cd".into()],
            },
            metadata: ImageMetadata {
                last_tag_time: String::new(),
            },
        };
        let text = serde_json::to_string(&v).unwrap();
        let keys = [
            "\"Id\"",
            "\"RepoTags\"",
            "\"RepoDigests\"",
            "\"Parent\"",
            "\"Comment\"",
            "\"Created\"",
            "\"Author\"",
            "\"Config\"",
            "\"Architecture\"",
            "\"Os\"",
            "\"Size\"",
            "\"RootFS\"",
            "\"Metadata\"",
        ];
        let at: Vec<usize> = keys.iter().map(|k| text.find(k).expect(k)).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.contains(r#""RootFS":{"Type":"layers","Layers":["sha256:cd"]}"#));
        assert!(!text.contains("Variant"), "no variant, no key: {text}");
    }
}
