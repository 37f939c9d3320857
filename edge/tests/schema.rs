//! `schema/rules.schema.json` must be what the code generates; `UPDATE_SCHEMA=1`
//! rewrites it.
#![cfg(feature = "schema")]

use serde_json::Value;

#[test]
fn checked_in_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/rules.schema.json");
    let generated = edge::rules::schema::rules_schema_pretty();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(on_disk == generated, "schema/rules.schema.json is stale: run UPDATE_SCHEMA=1 cargo test -p edge --features schema --test schema");
}

#[test]
fn schema_describes_rules_and_phases() {
    let schema = edge::rules::schema::rules_schema();
    assert_eq!(schema.pointer("/properties/version/type"), Some(&Value::from("integer")));
    let filter_actions = schema.pointer("/$defs/RawPhases/properties/filter/items/properties/action/enum").unwrap();
    assert!(filter_actions.as_array().unwrap().contains(&Value::from("block")));
    // deny_unknown_fields becomes additionalProperties: false, so editors flag typos.
    assert_eq!(schema.pointer("/$defs/RawRule/additionalProperties"), Some(&Value::Bool(false)));
    assert!(schema.pointer("/$defs/RawWhen/properties/ips").is_some());
}
