//! The checked-in schemas (`schemas/<name>.v<N>.json`) against the ones
//! generated from the Rust types, and the compatibility rule between them: a
//! change that would break an existing consumer (a removed or renamed field, a
//! type change, a new required field, a field made optional, a narrowed enum, a
//! changed constraint) fails unless `SCHEMA_VERSION` is bumped and a new file
//! added. Additive changes (a new optional field, a new enum value, new
//! descriptions) only need the files regenerated: `UPDATE_SCHEMAS=1 cargo test
//! --test schemas`.

mod schemas_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use warta::event::SCHEMA_VERSION;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// A schema node reduced to what a consumer depends on: `$ref`s resolved,
/// `anyOf`/`oneOf` of constants folded into an enum, nullable unions folded
/// into the type set, documentation dropped.
#[derive(Debug, Default, Clone, PartialEq)]
struct Shape {
    types: BTreeSet<String>,
    enums: Option<BTreeSet<String>>,
    properties: BTreeMap<String, Shape>,
    required: BTreeSet<String>,
    items: Option<Box<Shape>>,
    /// Alternatives that are not constants or null, compared by position.
    branches: Vec<Shape>,
    /// Validation keywords compared as they are (`pattern`, `format`, `const`,
    /// bounds, `allOf`, `if`/`then`/`else`, …).
    constraints: BTreeMap<String, Value>,
}

const IGNORED: [&str; 8] = [
    "description",
    "title",
    "$schema",
    "$defs",
    "examples",
    "default",
    "$comment",
    "deprecated",
];

fn shape(node: &Value, root: &Value, depth: usize) -> Shape {
    assert!(depth < 64, "schema nests too deep (a recursive $ref?)");
    let mut s = Shape::default();
    let Some(obj) = node.as_object() else {
        // `true`/`false` schemas.
        s.constraints.insert("schema".into(), node.clone());
        return s;
    };
    for (k, v) in obj {
        match k.as_str() {
            k if IGNORED.contains(&k) => {}
            "$ref" => {
                let target = v
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|p| root.pointer(p))
                    .unwrap_or_else(|| panic!("unresolvable $ref {v}"));
                merge(&mut s, shape(target, root, depth + 1));
            }
            "type" => match v {
                Value::String(t) => {
                    s.types.insert(t.clone());
                }
                Value::Array(ts) => s
                    .types
                    .extend(ts.iter().filter_map(|t| t.as_str().map(String::from))),
                _ => panic!("bad type {v}"),
            },
            "enum" => {
                s.enums = Some(
                    v.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.to_string())
                        .collect(),
                )
            }
            "properties" => {
                for (name, p) in v.as_object().unwrap() {
                    s.properties.insert(name.clone(), shape(p, root, depth + 1));
                }
            }
            "required" => {
                s.required = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            }
            "items" => s.items = Some(Box::new(shape(v, root, depth + 1))),
            "anyOf" | "oneOf"
                if v.as_array().unwrap().iter().all(|b| {
                    b.get("$ref").is_some() || b.get("type").is_some() || b.get("const").is_some()
                }) =>
            {
                for b in v.as_array().unwrap() {
                    let bs = shape(b, root, depth + 1);
                    if let Some(c) = b.get("const") {
                        s.enums
                            .get_or_insert_with(BTreeSet::new)
                            .insert(c.to_string());
                        s.types.extend(bs.types);
                    } else if b.get("type") == Some(&json!("null")) {
                        s.types.insert("null".into());
                    } else if bs.enums.is_some() && bs.properties.is_empty() {
                        s.enums
                            .get_or_insert_with(BTreeSet::new)
                            .extend(bs.enums.clone().unwrap());
                        s.types.extend(bs.types);
                    } else {
                        s.branches.push(bs);
                    }
                }
                // One real alternative besides null is that alternative, nullable.
                if s.branches.len() == 1 {
                    let only = s.branches.pop().unwrap();
                    merge(&mut s, only);
                }
            }
            "const" if obj.len() <= 3 && obj.contains_key("type") => {
                s.enums = Some(BTreeSet::from([v.to_string()]));
            }
            _ => {
                s.constraints.insert(k.clone(), v.clone());
            }
        }
    }
    s
}

fn merge(into: &mut Shape, from: Shape) {
    into.types.extend(from.types);
    if let Some(e) = from.enums {
        into.enums.get_or_insert_with(BTreeSet::new).extend(e);
    }
    into.properties.extend(from.properties);
    into.required.extend(from.required);
    if from.items.is_some() {
        into.items = from.items;
    }
    into.branches.extend(from.branches);
    into.constraints.extend(from.constraints);
}

/// The changes from `old` to `new` that would break a consumer written
/// against `old`; empty when `new` only adds.
fn breaking_changes(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    compare(&shape(old, old, 0), &shape(new, new, 0), "$", &mut out);
    out
}

fn compare(old: &Shape, new: &Shape, path: &str, out: &mut Vec<String>) {
    if old.types != new.types {
        out.push(format!(
            "{path}: type changed from {:?} to {:?}",
            old.types, new.types
        ));
    }
    match (&old.enums, &new.enums) {
        (Some(o), Some(n)) => {
            let gone: Vec<&String> = o.difference(n).collect();
            if !gone.is_empty() {
                out.push(format!("{path}: enum narrowed, values removed: {gone:?}"));
            }
        }
        (None, Some(n)) => out.push(format!("{path}: restricted to the enum {n:?}")),
        // An enum opened into its plain type only widens what is sent, like a
        // new enum value: consumers accept values they do not know.
        (Some(_), None) | (None, None) => {}
    }
    for (name, o) in &old.properties {
        let p = format!("{path}.{name}");
        match new.properties.get(name) {
            None => out.push(format!("{p}: field removed (or renamed)")),
            Some(n) => compare(o, n, &p, out),
        }
    }
    for r in new.required.difference(&old.required) {
        out.push(format!("{path}.{r}: new required field"));
    }
    for r in old.required.difference(&new.required) {
        if new.properties.contains_key(r) {
            out.push(format!("{path}.{r}: required field made optional"));
        }
    }
    match (&old.items, &new.items) {
        (Some(o), Some(n)) => compare(o, n, &format!("{path}[]"), out),
        (None, None) => {}
        _ => out.push(format!("{path}: array items changed")),
    }
    if old.branches.len() != new.branches.len() {
        out.push(format!(
            "{path}: alternatives changed from {} to {}",
            old.branches.len(),
            new.branches.len()
        ));
    } else {
        for (i, (o, n)) in old.branches.iter().zip(&new.branches).enumerate() {
            compare(o, n, &format!("{path}|{i}"), out);
        }
    }
    let keys: BTreeSet<&String> = old
        .constraints
        .keys()
        .chain(new.constraints.keys())
        .collect();
    for k in keys {
        let (o, n) = (old.constraints.get(k), new.constraints.get(k));
        if o != n {
            out.push(format!(
                "{path}: constraint `{k}` changed from {} to {}",
                o.map_or("none".into(), Value::to_string),
                n.map_or("none".into(), Value::to_string)
            ));
        }
    }
}

/// The checked-in version files of `name`: version → path.
fn versions(name: &str) -> BTreeMap<u32, PathBuf> {
    let prefix = format!("{name}.v");
    std::fs::read_dir(dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let file = e.file_name().to_string_lossy().into_owned();
                    let v = file.strip_prefix(&prefix)?.strip_suffix(".json")?;
                    Some((v.parse().ok()?, e.path()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn read(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn checked_in_schemas_match_the_types_and_changes_are_compatible() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut problems = Vec::new();
    for (name, generated) in warta::schema::all() {
        let file = dir().join(warta::schema::file_name(name));
        let text = warta::schema::to_file_text(&generated);
        let all = versions(name);
        if let Some(path) = all.get(&SCHEMA_VERSION) {
            let checked_in = read(path);
            let breaking = breaking_changes(&checked_in, &generated);
            if !breaking.is_empty() {
                problems.push(format!(
                    "{name}: breaking change against {} without a version bump:\n    {}\n  \
                     Make the change additive, or bump SCHEMA_VERSION (src/event.rs), add the new \
                     file with UPDATE_SCHEMAS=1 and keep the old one (docs/events.md, Compatibility).",
                    path.display(),
                    breaking.join("\n    ")
                ));
            } else if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
                if update {
                    std::fs::write(&file, &text).unwrap();
                } else {
                    problems.push(format!(
                        "{name}: {} is out of date (an additive change); regenerate it with \
                         UPDATE_SCHEMAS=1 cargo test --test schemas",
                        path.display()
                    ));
                }
            }
        } else {
            // A new schema, or a version bump: the older versions stay beside it.
            if let Some((v, _)) = all.range(SCHEMA_VERSION..).next() {
                problems.push(format!(
                    "{name}: v{v} is checked in but SCHEMA_VERSION is {SCHEMA_VERSION}"
                ));
            } else if update {
                std::fs::create_dir_all(dir()).unwrap();
                std::fs::write(&file, &text).unwrap();
            } else {
                problems.push(format!(
                    "{name}: {} is missing; create it with UPDATE_SCHEMAS=1 cargo test --test schemas",
                    file.display()
                ));
            }
        }
    }
    // Every file in schemas/ is one of ours: a stray file is a schema nobody checks.
    for e in std::fs::read_dir(dir()).unwrap() {
        let file = e.unwrap().file_name().to_string_lossy().into_owned();
        let known = warta::schema::NAMES.iter().any(|n| {
            file.strip_prefix(&format!("{n}.v"))
                .and_then(|v| v.strip_suffix(".json"))
                .is_some_and(|v| v.parse::<u32>().is_ok())
        });
        if !known && file != "README.md" {
            problems.push(format!("schemas/{file} is not a schema warta generates"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn schemas_are_valid_draft_2020_12_and_every_field_is_described() {
    for (name, schema) in warta::schema::all() {
        jsonschema::draft202012::meta::validate(&schema)
            .unwrap_or_else(|e| panic!("{name} is not a valid draft 2020-12 schema: {e}"));
        let mut missing = Vec::new();
        undescribed(&schema, &schema, name, &mut missing);
        assert!(
            missing.is_empty(),
            "{name}: properties without a description: {missing:?}"
        );
        assert!(
            schema["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name}: the schema has no description"
        );
    }
}

/// Properties with no description of their own or on the definition they refer to.
fn undescribed(node: &Value, root: &Value, path: &str, out: &mut Vec<String>) {
    match node {
        Value::Object(m) => {
            if let Some(Value::Object(props)) = m.get("properties") {
                for (k, p) in props {
                    let described = p.get("description").is_some()
                        || p.get("$ref")
                            .and_then(|r| r.as_str())
                            .and_then(|r| root.pointer(r.trim_start_matches('#')))
                            .is_some_and(|t| t.get("description").is_some());
                    // `{"properties": {"verdict": {"const": …}}}` inside `if` or
                    // `allOf` restates a described field; it is not a new one.
                    let restated = p.as_object().is_some_and(|o| {
                        o.keys()
                            .all(|k| ["const", "type", "minimum"].contains(&k.as_str()))
                    }) && m.get("type").is_none();
                    if !described && !restated {
                        out.push(format!("{path}.{k}"));
                    }
                }
            }
            for (k, v) in m {
                undescribed(v, root, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| undescribed(v, root, path, out)),
        _ => {}
    }
}

#[test]
fn enum_values_carry_descriptions() {
    // Every value of every enum the outputs use says what it means.
    let articles = warta::schema::schema("clean-articles").unwrap();
    for def in [
        "ArticleVerdict",
        "Precision",
        "DateSource",
        "DateFlag",
        "FieldSource",
    ] {
        let branches = articles["$defs"][def]["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{def}: expected oneOf of described constants"));
        for b in branches {
            assert!(
                b.get("description").is_some(),
                "{def}: {b} has no description"
            );
        }
    }
}

// --- the comparison on synthetic schemas ----------------------------------------

fn base() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "the id"},
            "count": {"type": "integer"},
            "note": {"type": ["string", "null"]},
            "verdict": {"$ref": "#/$defs/Verdict"},
            "tags": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["id", "count", "verdict"],
        "$defs": {
            "Verdict": {"oneOf": [
                {"type": "string", "const": "new", "description": "first"},
                {"type": "string", "const": "updated"}
            ]}
        }
    })
}

#[test]
fn identical_and_reworded_schemas_are_compatible() {
    assert_eq!(breaking_changes(&base(), &base()), Vec::<String>::new());
    let mut reworded = base();
    reworded["properties"]["id"]["description"] = json!("another wording");
    reworded["$defs"]["Verdict"]["description"] = json!("described now");
    assert!(breaking_changes(&base(), &reworded).is_empty());
}

#[test]
fn a_new_optional_field_is_compatible() {
    let mut new = base();
    new["properties"]["extra"] = json!({"type": "string", "description": "new"});
    assert_eq!(breaking_changes(&base(), &new), Vec::<String>::new());
}

#[test]
fn a_new_enum_value_is_compatible() {
    let mut new = base();
    new["$defs"]["Verdict"]["oneOf"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "string", "const": "duplicate"}));
    assert!(breaking_changes(&base(), &new).is_empty());
}

#[test]
fn a_removed_field_breaks() {
    let mut new = base();
    new["properties"].as_object_mut().unwrap().remove("note");
    assert_eq!(
        breaking_changes(&base(), &new),
        vec!["$.note: field removed (or renamed)"]
    );
}

#[test]
fn a_renamed_field_breaks() {
    let mut new = base();
    let props = new["properties"].as_object_mut().unwrap();
    let v = props.remove("count").unwrap();
    props.insert("total".into(), v);
    new["required"] = json!(["id", "total", "verdict"]);
    let b = breaking_changes(&base(), &new);
    assert!(
        b.contains(&"$.count: field removed (or renamed)".to_string()),
        "{b:?}"
    );
    assert!(
        b.contains(&"$.total: new required field".to_string()),
        "{b:?}"
    );
}

#[test]
fn a_type_change_breaks_nullability_included() {
    let mut new = base();
    new["properties"]["count"] = json!({"type": "string"});
    assert_eq!(breaking_changes(&base(), &new).len(), 1);
    let mut new = base();
    new["properties"]["id"] = json!({"type": ["string", "null"]});
    assert_eq!(
        breaking_changes(&base(), &new),
        vec![r#"$.id: type changed from {"string"} to {"null", "string"}"#]
    );
    let mut new = base();
    new["properties"]["tags"]["items"] = json!({"type": "integer"});
    assert_eq!(breaking_changes(&base(), &new).len(), 1);
}

#[test]
fn a_new_required_field_breaks_and_so_does_an_optional_one_made_required() {
    let mut new = base();
    new["properties"]["extra"] = json!({"type": "string"});
    new["required"] = json!(["id", "count", "verdict", "extra"]);
    assert_eq!(
        breaking_changes(&base(), &new),
        vec!["$.extra: new required field"]
    );
    let mut new = base();
    new["required"] = json!(["id", "count"]);
    assert_eq!(
        breaking_changes(&base(), &new),
        vec!["$.verdict: required field made optional"]
    );
}

#[test]
fn a_narrowed_enum_breaks() {
    let mut new = base();
    new["$defs"]["Verdict"]["oneOf"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_eq!(
        breaking_changes(&base(), &new),
        vec![r#"$.verdict: enum narrowed, values removed: ["\"updated\""]"#]
    );
    // The same with a plain `enum`.
    let old = json!({"type": "string", "enum": ["a", "b"]});
    let new = json!({"type": "string", "enum": ["a"]});
    assert_eq!(breaking_changes(&old, &new).len(), 1);
}

#[test]
fn a_changed_constraint_breaks() {
    let mut new = base();
    new["properties"]["id"]["pattern"] = json!("^[0-9a-f]{16}$");
    assert_eq!(
        breaking_changes(&base(), &new),
        vec![r#"$.id: constraint `pattern` changed from none to "^[0-9a-f]{16}$""#]
    );
}

#[test]
fn a_removed_field_of_the_real_article_schema_breaks() {
    // The check on the real schema: drop `word_count` from clean-articles.
    let old = warta::schema::schema("clean-articles").unwrap();
    let mut new = old.clone();
    new["properties"]
        .as_object_mut()
        .unwrap()
        .remove("word_count");
    let req = new["required"].as_array_mut().unwrap();
    req.retain(|r| r != "word_count");
    assert_eq!(
        breaking_changes(&old, &new),
        vec!["$.word_count: field removed (or renamed)"]
    );
    // And an added optional field passes.
    let mut new = old.clone();
    new["properties"]["summary"] = json!({"type": "string", "description": "a summary"});
    assert!(breaking_changes(&old, &new).is_empty());
}

#[test]
fn warta_schema_prints_the_checked_in_files() {
    let warta = env!("CARGO_BIN_EXE_warta");
    for name in warta::schema::NAMES {
        let out = std::process::Command::new(warta)
            .args(["schema", name])
            .output()
            .expect("run warta schema");
        assert!(out.status.success(), "warta schema {name}: {out:?}");
        let file = dir().join(warta::schema::file_name(name));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            std::fs::read_to_string(&file).unwrap(),
            "warta schema {name} differs from {}",
            file.display()
        );
    }
    let all = std::process::Command::new(warta)
        .arg("schema")
        .output()
        .unwrap();
    let all: Value = serde_json::from_slice(&all.stdout).expect("warta schema prints JSON");
    assert_eq!(all.as_object().unwrap().len(), warta::schema::NAMES.len());
    let bad = std::process::Command::new(warta)
        .args(["schema", "clean-article"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("one of: raw-pages"));
}

#[test]
fn the_examples_in_docs_events_md_are_valid() {
    // Each JSON example sits under the heading of the record it shows.
    let doc = std::fs::read_to_string(dir().join("../docs/events.md")).unwrap();
    let validators = schemas_support::Validators::new();
    let mut heading = String::new();
    let mut block: Option<String> = None;
    let mut checked = BTreeMap::<&str, usize>::new();
    for line in doc.lines() {
        match (&mut block, line) {
            (None, l) if l.starts_with("## ") => heading = l.to_string(),
            (None, "```json") => block = Some(String::new()),
            (Some(b), "```") => {
                let value: Value = serde_json::from_str(b)
                    .unwrap_or_else(|e| panic!("docs/events.md example under {heading}: {e}"));
                let name = match heading.as_str() {
                    h if h.contains("`RawPage`") => "raw-pages",
                    h if h.contains("`Article`") && value["verdict"] == "duplicate" => {
                        "page-duplicates"
                    }
                    h if h.contains("`Article`") => "clean-articles",
                    h if h.contains("`Headline`") => "clean-headlines",
                    h if h.contains("`Rejected`") => "raw-pages-dlq",
                    h => panic!("a JSON example under {h}: which schema?"),
                };
                validators.assert_valid(
                    name,
                    &value,
                    &format!("docs/events.md example under {heading}"),
                );
                *checked.entry(name).or_default() += 1;
                block = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    assert_eq!(
        checked.keys().copied().collect::<Vec<_>>(),
        [
            "clean-articles",
            "clean-headlines",
            "page-duplicates",
            "raw-pages",
            "raw-pages-dlq"
        ],
        "{checked:?}"
    );
}
