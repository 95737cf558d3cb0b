//! Reading lab files: versions, unknown fields, hostile sizes and depths.

use nslab_model::{load_lab, Limits, LoadError, Rule};

fn load(text: &str) -> Result<nslab_model::Lab, LoadError> {
    load_lab(text.as_bytes(), &Limits::default())
}

#[test]
fn a_newer_version_is_a_clear_error() {
    let error = load(r#"{"version": 2, "name": "x", "future_field": true}"#).unwrap_err();
    assert_eq!(error, LoadError::UnsupportedVersion { found: 2 });
    assert!(error.to_string().contains("a newer nslab is needed"), "{error}");
    assert_eq!(error.path().as_str(), "version");
    assert_eq!(error.rule(), Rule::UnsupportedVersion);
    let error = load(r#"{"version": 0, "name": "x"}"#).unwrap_err();
    assert_eq!(error, LoadError::UnsupportedVersion { found: 0 });
    assert!(!error.to_string().contains("newer"));
}

#[test]
fn the_version_must_be_there_and_be_a_number() {
    assert_eq!(load(r#"{"name": "x"}"#).unwrap_err(), LoadError::MissingVersion);
    assert_eq!(load(r#"{"version": "1", "name": "x"}"#).unwrap_err(), LoadError::BadVersion);
    assert_eq!(load(r#"{"version": -1, "name": "x"}"#).unwrap_err(), LoadError::BadVersion);
    assert_eq!(load(r#"{"version": 1e300, "name": "x"}"#).unwrap_err(), LoadError::BadVersion);
    assert_eq!(load(r#"[1]"#).unwrap_err(), LoadError::NotAnObject);
    for not_an_object in ["5", "\"lab\"", "null", "  [1, \"x\"]", "[]"] {
        assert_eq!(load(not_an_object).unwrap_err(), LoadError::NotAnObject, "{not_an_object}");
    }
}

#[test]
fn a_version_given_twice_is_a_located_error() {
    let LoadError::Shape { message, line, column, .. } =
        load("{\"version\": 1,\n \"version\": 1, \"name\": \"x\"}").unwrap_err()
    else {
        panic!("not a shape error")
    };
    assert!(message.contains("duplicate field `version`"), "{message}");
    assert_eq!((line, column), (2, 10));
}

#[test]
fn unknown_fields_are_errors_with_their_place() {
    // A typo must not be dropped silently: the user would lose the addresses.
    let text = r#"{"version": 1, "name": "x", "links": [{"kind": "veth",
        "a": {"node": "n1", "name": "e", "adresses": ["10.0.0.1/24"]}, "b": {"node": "n2", "name": "e"}}]}"#;
    let LoadError::Shape { path, message, line, .. } = load(text).unwrap_err() else { panic!("not a shape error") };
    // The path reaches the field itself (the link's kind is read first, then its fields).
    assert_eq!(path.as_str(), "links[0].a.adresses");
    assert!(message.contains("unknown field `adresses`"), "{message}");
    assert_eq!(line, 2);
    let LoadError::Shape { path, message, .. } = load(r#"{"version": 1, "name": "x", "colour": 1}"#).unwrap_err()
    else {
        panic!()
    };
    assert!(message.contains("unknown field `colour`"), "{message}");
    assert_eq!(path.as_str(), "colour");
}

#[test]
fn editor_objects_keep_unknown_fields_unchanged() {
    let text = r##"{"version": 1, "name": "x", "nodes": [{"kind": "namespace", "name": "n",
        "editor": {"x": 1.5, "y": -2, "color": "#ff0000", "pinned": true, "tags": ["a", {"b": null}]}}],
        "editor": {"notes": [{"text": "hello", "x": 10}], "zoom": 1.25}}"##;
    let lab = load(text).unwrap();
    let editor = lab.nodes[0].editor().unwrap();
    assert_eq!(editor.x, Some(1.5));
    assert_eq!(editor.color.as_deref(), Some("#ff0000"));
    assert_eq!(editor.extra["pinned"], serde_json::json!(true));
    let exported = nslab_model::export::to_json(&lab);
    let again = load(&exported).unwrap();
    assert_eq!(again, lab);
    assert_eq!(nslab_model::export::to_json(&again), exported);
    assert!(exported.contains("\"tags\""));
    assert!(exported.contains("\"zoom\": 1.25"));
}

#[test]
fn wrong_types_name_the_field() {
    let text = r#"{"version": 1, "name": "x", "links": [{"kind": "veth",
        "a": {"node": "n1", "name": "e", "mtu": "big"}, "b": {"node": "n2", "name": "e"}}]}"#;
    let error = load(text).unwrap_err();
    assert!(error.path().as_str().starts_with("links[0]"), "{:?}", error.path());
    assert!(error.to_string().contains("invalid type"), "{error}");
    let error = load(r#"{"version": 1, "name": "x", "nodes": [{"kind": "router", "name": "r"}]}"#).unwrap_err();
    assert!(error.to_string().contains("unknown variant `router`"), "{error}");
    assert_eq!(error.path().as_str(), "nodes[0].kind");
    let error = load(r#"{"version": 1}"#).unwrap_err();
    assert!(error.to_string().contains("missing field `name`"), "{error}");
}

#[test]
fn syntax_errors_give_line_and_column() {
    let error = load("{\"version\": 1,\n \"name\": \"x\",,}").unwrap_err();
    let LoadError::Syntax { line, column, .. } = error else { panic!("{error:?}") };
    assert_eq!((line, column), (2, 14));
    assert!(matches!(load(""), Err(LoadError::Syntax { .. })));
    assert!(matches!(load("\u{feff}{}"), Err(LoadError::Syntax { .. })));
}

#[test]
fn ten_megabytes_are_refused_before_parsing() {
    let mut text = String::from(r#"{"version": 1, "name": "x", "description": ""#);
    text.push_str(&"a".repeat(10 * 1024 * 1024));
    text.push_str("\"}");
    let error = load(&text).unwrap_err();
    assert!(matches!(error, LoadError::TooLarge { .. }), "{error:?}");
    assert_eq!(error.rule(), Rule::FileTooLarge);
    assert!(error.to_string().contains("at most 4194304 bytes"), "{error}");
}

#[test]
fn deep_nesting_is_refused_cleanly() {
    // Deep enough to overflow a naive recursive parser's stack, small enough to pass the size limit.
    let depth = 100_000;
    let text =
        format!(r#"{{"version": 1, "name": "x", "editor": {{"deep": {}{}}}}}"#, "[".repeat(depth), "]".repeat(depth));
    let error = load(&text).unwrap_err();
    assert!(error.to_string().contains("nested too deeply"), "{error}");
    assert_eq!(error.rule(), Rule::Syntax);
}

#[test]
fn load_errors_become_located_problems() {
    let problem = load(r#"{"version": 9, "name": "x"}"#).unwrap_err().to_problem();
    assert_eq!(problem.path.as_str(), "version");
    assert!(problem.is_error());
}
