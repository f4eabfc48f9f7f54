//! The README documents every configuration key `config/default.toml` has, so
//! a key added to the defaults without a line in the README fails CI.

mod common;

fn keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) if !t.is_empty() => keys(&key, t, out),
            _ => out.push(key),
        }
    }
}

#[test]
fn readme_documents_every_config_key() {
    let defaults: toml::Table = std::fs::read_to_string(common::root().join("config/default.toml"))
        .expect("config/default.toml")
        .parse()
        .expect("valid TOML");
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let mut all = Vec::new();
    keys("", &defaults, &mut all);
    assert!(all.len() > 30, "{all:?}");
    let missing: Vec<&String> = all
        .iter()
        // Empty passthrough tables ([kafka.consumer]) and [sites] are
        // documented as patterns (`kafka.consumer.*`, `sites."<site>"...`).
        .filter(|k| !matches!(k.as_str(), "kafka.consumer" | "kafka.producer" | "sites"))
        .filter(|k| !readme.contains(&format!("`{k}`")) && !readme.contains(&format!("`{k} ")))
        .collect();
    assert!(missing.is_empty(), "README lacks these keys: {missing:?}");
}
