//! The JSON Schema of the rules document, generated from the same types the
//! edge parses, so an editor flags what the edge would refuse.
//!
//! `schema/rules.schema.json` is this output, kept current by a test.

use serde_json::{json, Value};

use super::document::RawDocument;
use super::validate::PhaseAction;
use crate::phases::{
    authenticate::AuthAction, filter::FilterAction, limit::LimitAction, respond::RespondAction, route::RouteAction,
};

/// The schema, with each phase's `action` narrowed to the actions it accepts.
pub fn rules_schema() -> Value {
    let mut schema = schemars::schema_for!(RawDocument).to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("title".into(), json!("Edge rules document"));
    }
    let phases: [(&str, &[&str]); 6] = [
        (FilterAction::PHASE, FilterAction::ACTIONS),
        (AuthAction::PHASE, AuthAction::ACTIONS),
        (LimitAction::PHASE, LimitAction::ACTIONS),
        ("cache", &[]),
        (RouteAction::PHASE, RouteAction::ACTIONS),
        (RespondAction::PHASE, RespondAction::ACTIONS),
    ];
    if let Some(props) = schema.pointer_mut("/$defs/RawPhases/properties").and_then(Value::as_object_mut) {
        for (phase, actions) in phases {
            props.insert(
                phase.to_string(),
                json!({
                    "description": format!("Rules of the {phase} phase, evaluated in order."),
                    "type": "array",
                    "default": [],
                    "items": {
                        "allOf": [{ "$ref": "#/$defs/RawRule" }],
                        "properties": { "action": { "enum": actions } }
                    }
                }),
            );
        }
    }
    schema
}

/// Pretty JSON with a trailing newline, as checked in.
pub fn rules_schema_pretty() -> String {
    let mut s = serde_json::to_string_pretty(&rules_schema()).unwrap_or_default();
    s.push('\n');
    s
}
