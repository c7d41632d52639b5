//! `system df` and `system prune` against the real binary, as root: the figures against the
//! files on disk, docker's table and `-v`, and what prune removes with `-a` and `--volumes`.

mod common;

use std::path::Path;

use common::images;
use common::{Auth, Registry, TestRoot};

/// The bytes of the files under `dir` (as `du -b --apparent-size` counts file data).
fn bytes_under(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                total += e.metadata().unwrap().len();
            }
        }
    }
    total
}

fn df_rows(root: &TestRoot) -> Vec<serde_json::Value> {
    root.berth_ok(["system", "df", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn df_matches_the_disk_and_prune_frees_it() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    reg.push(images::single_layer(), "test/busybox:latest");
    reg.push(images::multi_layer(), "test/layered:latest");
    let img = reg.reference("test/busybox:latest");
    let other = reg.reference("test/layered:latest");
    root.berth_ok(["pull", "-q", &img]);
    root.berth_ok(["pull", "-q", &other]);
    // A stopped container that wrote 1 MiB, a running one with a named volume holding 2 MiB,
    // an unused named volume, and a stopped container with an anonymous volume.
    root.berth_ok([
        "run",
        "--name",
        "wrote",
        &img,
        "dd",
        "if=/dev/zero",
        "of=/big",
        "bs=1024",
        "count=1024",
    ]);
    root.berth_ok([
        "run",
        "-d",
        "--name",
        "up",
        "-v",
        "data:/data",
        &img,
        "sh",
        "-c",
        "dd if=/dev/zero of=/data/f bs=1024 count=2048 && sleep 1000",
    ]);
    root.berth_ok(["volume", "create", "spare"]);
    root.berth_ok(["run", "--name", "anon", "-v", "/scratch", &img, "true"]);
    let engine = berth::engine::Engine::open(&root.path()).unwrap();
    let mut du = engine.disk_usage().unwrap();
    for _ in 0..50 {
        if du
            .volumes
            .iter()
            .any(|v| v.name == "data" && v.size == 2 << 20)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        du = engine.disk_usage().unwrap();
    }

    // Images: every layer and blob once, as the files under layers/ and blobs/ add up.
    let on_disk =
        bytes_under(&root.path().join("layers")) + bytes_under(&root.path().join("blobs"));
    assert_eq!(du.images_size, on_disk);
    assert_eq!(du.images.len(), 2);
    let used = du
        .images
        .iter()
        .find(|i| i.containers == 3)
        .expect("busybox used by 3");
    let unused = du
        .images
        .iter()
        .find(|i| i.containers == 0)
        .expect("layered unused");
    // The two images share the base layer; only what the unused one alone keeps is reclaimable.
    assert!(
        used.shared_size > 0 && used.shared_size == unused.shared_size,
        "{du:#?}"
    );
    assert_eq!(du.images_reclaimable, unused.size - unused.shared_size);
    assert_eq!(du.images_size, used.size + unused.size - used.shared_size);
    // Containers: the writable layers; the stopped ones are reclaimable.
    let wrote = du.containers.iter().find(|c| c.name == "wrote").unwrap();
    assert_eq!(
        wrote.size_rw,
        bytes_under(&root.path().join("containers").join(&wrote.id).join("upper"))
    );
    assert!(wrote.size_rw >= 1 << 20);
    assert_eq!(
        du.containers_reclaimable(),
        du.containers
            .iter()
            .filter(|c| c.name != "up")
            .map(|c| c.size_rw)
            .sum::<u64>()
    );
    // Volumes: their data; the unmounted ones are reclaimable.
    let data = du.volumes.iter().find(|v| v.name == "data").unwrap();
    assert_eq!((data.size, data.links), (2 << 20, 1));
    assert_eq!(
        du.volumes_reclaimable(),
        0,
        "spare and the anonymous one are empty"
    );

    // docker's summary.
    let rows = df_rows(&root);
    let cells: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["Type"].as_str().unwrap().to_string(),
                r["TotalCount"].as_str().unwrap().to_string(),
                r["Active"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        cells,
        [
            t("Images", "2", "1"),
            t("Containers", "3", "1"),
            t("Local Volumes", "3", "2"),
            t("Build Cache", "0", "0")
        ]
    );
    assert_eq!(rows[2]["Size"], "2.097MB");
    assert_eq!(rows[2]["Reclaimable"], "0B (0%)");
    let table = root.berth_ok(["system", "df"]);
    let head: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    let verbose = root.berth_ok(["system", "df", "-v"]);
    for part in [
        "Images space usage:",
        "Containers space usage:",
        "Local Volumes space usage:",
        "Build cache usage: 0B",
    ] {
        assert!(verbose.contains(part), "{verbose}");
    }
    assert!(
        verbose.contains("test/layered") && verbose.contains("spare"),
        "{verbose}"
    );

    // No answer: nothing removed.
    let no = root.berth(["system", "prune"]);
    assert!(no.status.success());
    assert_eq!(df_rows(&root)[1]["TotalCount"], "3");
    // Default: stopped containers and dangling images (none): both images stay.
    let out = root.berth_ok(["system", "prune", "-f"]);
    assert!(
        out.contains("Deleted Containers:") && out.contains(&wrote.id),
        "{out}"
    );
    assert!(out.contains("Total reclaimed space: "), "{out}");
    let rows = df_rows(&root);
    assert_eq!(rows[0]["TotalCount"], "2");
    assert_eq!(rows[1]["TotalCount"], "1");
    assert_eq!(rows[2]["TotalCount"], "3");
    // --volumes: the anonymous volume no container uses; named ones stay. -a: the unused image.
    let out = root.berth_ok(["system", "prune", "-f", "-a", "--volumes"]);
    assert!(
        out.contains("Deleted Volumes:") && out.contains("Deleted Images:"),
        "{out}"
    );
    let rows = df_rows(&root);
    assert_eq!(rows[0]["TotalCount"], "1");
    assert_eq!(rows[2]["TotalCount"], "2");
    let after = engine.disk_usage().unwrap();
    let on_disk =
        bytes_under(&root.path().join("layers")) + bytes_under(&root.path().join("blobs"));
    assert_eq!(
        after.images_size, on_disk,
        "the unused image's files are gone"
    );
    assert_eq!(after.images_reclaimable, 0);
    assert!(
        root.berth_ok(["ps", "-q"]).trim().len() == 12,
        "the running one stays"
    );
}
