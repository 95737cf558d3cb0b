//! The JSON Schema is generated from the types, is itself valid, accepts the examples,
//! and the copy checked into `schema/` is current.

use nslab_model::schema::lab_schema_json;
use serde_json::{json, Value};

fn schema() -> Value {
    serde_json::from_str(&lab_schema_json()).expect("the schema is JSON")
}

#[test]
fn the_schema_is_valid_json_schema() {
    jsonschema::meta::validate(&schema()).expect("valid against its meta-schema");
}

#[test]
fn the_examples_match_the_schema_and_broken_documents_do_not() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema compiles");
    for text in [
        include_str!("../../examples/seed-veth.json"),
        include_str!("../../examples/seed-bridge.json"),
        include_str!("../../examples/router.json"),
    ] {
        let document: Value = serde_json::from_str(text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&document).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    for broken in [
        json!({"name": "x"}),
        json!({"version": 1, "name": "x", "colour": 1}),
        json!({"version": 1, "name": "x", "nodes": [{"kind": "router", "name": "r"}]}),
        json!({"version": 1, "name": "x", "links": [{"kind": "veth", "a": {"node": "n"}, "b": {"node": "m", "name": "e"}}]}),
    ] {
        assert!(!validator.is_valid(&broken), "{broken} should not match");
    }
}

#[test]
fn the_checked_in_schema_is_current() {
    let checked_in = include_str!("../../schema/lab.v1.schema.json");
    assert!(
        checked_in == lab_schema_json(),
        "schema/lab.v1.schema.json is stale: run `nslab schema > schema/lab.v1.schema.json`"
    );
}
