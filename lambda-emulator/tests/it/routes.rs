//! One route table: `template.yaml` says which function serves which route, and the local server,
//! the events (and so `sam local invoke` and the emulator tests) and the Runtime API tests
//! follow it. A route added, renamed or moved in one place and not in the others fails here.

use std::path::PathBuf;

use lambda_emulator::{Template, TemplateError, events};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(routeKey, Cargo binary)` of every route of the template's HTTP API.
fn declared_routes() -> Vec<(String, String)> {
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let routes: Vec<(String, String)> = template
        .routes()
        .unwrap()
        .iter()
        .map(|route| {
            let binary = template
                .binary(&route.function)
                .unwrap_or_else(|| panic!("{} has no BuildProperties.Binary", route.function));
            (route.key(), binary)
        })
        .collect();
    assert!(!routes.is_empty(), "no HttpApi event in the template");
    routes
}

#[test]
fn the_local_server_serves_each_route_of_the_template_with_its_function() {
    let mut served: Vec<(String, String)> = local_api::ROUTES
        .iter()
        .map(|(method, path, function)| (format!("{method} {path}"), function.name().to_owned()))
        .collect();
    served.sort();
    assert_eq!(served, declared_routes());
}

#[test]
fn sam_local_invoke_sends_each_route_of_the_template_to_its_function() {
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let mut declared: Vec<(String, String)> = template
        .routes()
        .unwrap()
        .into_iter()
        .map(|route| (route.key(), route.function))
        .collect();
    declared.sort();
    // The script's `function_for`: lines like `"GET /profile") echo ProfileFunction ;;`.
    let script = std::fs::read_to_string(root().join("scripts/sam-local-invoke")).unwrap();
    let mut scripted: Vec<(String, String)> = script
        .lines()
        .filter_map(|line| {
            let (key, rest) = line.trim().strip_prefix('"')?.split_once("\") echo ")?;
            Some((key.to_owned(), rest.strip_suffix(" ;;")?.to_owned()))
        })
        .collect();
    scripted.sort();
    assert_eq!(scripted, declared);
}

#[test]
fn every_event_is_of_a_route_of_the_template_and_every_route_has_events() {
    let declared: Vec<String> = declared_routes().into_iter().map(|(key, _)| key).collect();
    let all = events::load(&root().join("events")).unwrap();
    for event in &all {
        assert!(
            declared.iter().any(|key| key == event.route_key()),
            "{}: {} is no route of template.yaml",
            event.name,
            event.route_key()
        );
    }
    for key in &declared {
        assert!(
            all.iter().any(|event| event.route_key() == key),
            "no event for {key}: add one to scripts/make_events.py"
        );
    }
}

#[test]
fn routes_are_read_from_each_functions_http_api_events() {
    let template = Template::parse(
        r"
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  OneFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /one, Method: get}
        Post:
          Type: HttpApi
          Properties: {Path: /one, Method: POST}
        Queue:
          Type: SQS
          Properties: {Queue: arn}
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Root:
          Type: HttpApi
          Properties: {Path: /, Method: delete}
",
    )
    .unwrap();
    let routes: Vec<(String, String)> = template
        .routes()
        .unwrap()
        .iter()
        .map(|route| (route.key(), route.function.clone()))
        .collect();
    assert_eq!(
        routes,
        [
            ("DELETE /".to_owned(), "OtherFunction".to_owned()),
            ("GET /one".to_owned(), "OneFunction".to_owned()),
            ("POST /one".to_owned(), "OneFunction".to_owned()),
        ]
    );
}

#[test]
fn an_http_api_event_without_a_plain_path_and_method_is_an_error_not_left_out() {
    for event in [
        "{Type: HttpApi}",
        "{Type: HttpApi, Properties: {Path: !Sub '/${Stage}', Method: get}}",
        "{Type: HttpApi, Properties: {Method: get}}",
    ] {
        let template = Template::parse(&format!(
            "
Resources:
  OneFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Catch: {event}
"
        ))
        .unwrap();
        let error = template.routes().unwrap_err();
        assert!(
            matches!(&error, TemplateError::UnreadableRoute { function, event }
                if function == "OneFunction" && event == "Catch"),
            "{error}"
        );
    }
}

/// The local server budgets a request as a function's timeout allows (`auth_core::state`):
/// every function of the template has that timeout.
#[test]
fn every_function_has_the_timeout_the_local_server_budgets_for() {
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let functions = template.function_ids();
    assert!(!functions.is_empty());
    // The tables' names, which only a deployment resolves, given as sam local invoke is.
    let env_vars =
        crate::bootstraps::env_vars_of("local-env.json", crate::bootstraps::UNUSED_TABLES);
    for function in functions {
        let config = template.function(&function, &env_vars).unwrap();
        assert_eq!(
            config.timeout,
            auth_core::state::FUNCTION_TIMEOUT,
            "{function}"
        );
    }
}
