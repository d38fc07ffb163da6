//! Every event of `events/authorizer/` (API Gateway's three shapes) gets the answer it
//! documents, with the configuration of `local-env.json` and the demo user.

use std::{path::PathBuf, sync::Arc};

use auth_core::{
    AppState, Stores, sessions::InMemorySessionStore, settings::Settings, users::InMemoryUserStore,
};
use authorizer::Authorizer;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(name, event, expected)` of every file of `events/authorizer/`.
pub fn authorizer_events() -> Vec<(String, Value, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("events/authorizer"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let mut event: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let expected = event.as_object_mut().unwrap().remove("expected").unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, event, expected)
        })
        .collect()
}

fn local_authorizer() -> Authorizer {
    let env: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("local-env.json")).unwrap())
            .unwrap();
    let settings =
        Settings::from_lookup(|name| env["Parameters"][name].as_str().map(str::to_owned)).unwrap();
    let state = AppState::builder(
        &settings,
        Stores::separate(
            Arc::new(InMemoryUserStore::demo()),
            Arc::new(InMemorySessionStore::default()),
        ),
    )
    .build()
    .unwrap();
    Authorizer::new(Arc::new(state), None, |_| None).unwrap()
}

#[tokio::test]
async fn every_authorizer_event_gets_the_answer_it_documents() {
    let authorizer = local_authorizer();
    let events = authorizer_events();
    assert!(events.len() >= 6, "{} events", events.len());
    for (name, event, expected) in events {
        let answer = authorizer.handle(event).await;
        match (&expected["reply"], &expected["errorMessage"], answer) {
            (Value::Null, Value::String(message), Err(error)) => {
                assert_eq!(&error.to_string(), message, "{name}")
            }
            (reply, Value::Null, Ok(answer)) => assert_eq!(&answer, reply, "{name}"),
            (_, _, answer) => panic!("{name}: {answer:?}, expected {expected}"),
        }
    }
}
