//! Shared by the schema tests: validators for every schema in `warta::schema`,
//! each compiled twice: as published (open to new fields) and strict (every
//! object closed), so a record that carries a field its schema does not list
//! fails too.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;

pub struct Validators {
    open: BTreeMap<&'static str, jsonschema::Validator>,
    strict: BTreeMap<&'static str, jsonschema::Validator>,
}

impl Validators {
    pub fn new() -> Self {
        let mut open = BTreeMap::new();
        let mut strict = BTreeMap::new();
        for (name, schema) in warta::schema::all() {
            open.insert(name, compile(name, &schema));
            strict.insert(name, compile(name, &closed(schema)));
        }
        Validators { open, strict }
    }

    /// Every error of `value` against schema `name`, as `path: message` lines.
    pub fn errors(&self, name: &str, value: &Value) -> Vec<String> {
        let mut out: Vec<String> = self.open[name]
            .iter_errors(value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        if out.is_empty() {
            out.extend(self.strict[name].iter_errors(value).map(|e| {
                format!(
                    "{} (a field the schema does not list): {e}",
                    e.instance_path()
                )
            }));
        }
        out
    }

    /// Panics with the record and its errors when it is not valid.
    pub fn assert_valid(&self, name: &str, value: &Value, what: &str) {
        let errors = self.errors(name, value);
        assert!(
            errors.is_empty(),
            "{what} is not valid against schema {name}:\n  {}\nrecord: {}",
            errors.join("\n  "),
            truncate(&value.to_string(), 2000)
        );
    }
}

fn compile(name: &str, schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"))
}

/// The schema with `additionalProperties: false` on every object type that
/// lists its properties and says nothing about others.
pub fn closed(mut schema: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                let is_object_type = m.get("type").is_some_and(|t| {
                    t == "object"
                        || t.as_array()
                            .is_some_and(|a| a.iter().any(|x| x == "object"))
                });
                if is_object_type && m.contains_key("properties") {
                    m.entry("additionalProperties")
                        .or_insert(Value::Bool(false));
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut schema);
    schema
}

pub fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
