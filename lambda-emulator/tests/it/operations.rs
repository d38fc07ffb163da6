//! What an operator reads is what the functions write: the template's dashboard and alarms name
//! only metrics `auth_core::metrics` emits, on the dimension sets its lines carry, and every such
//! metric is on the dashboard. And the logs the stack keeps: every log group has the retention
//! parameter and the key of `KmsKeyArn`, every function logs to its own, nothing filters the
//! metric lines out, and the API's access log records no header, cookie or body.

use std::{collections::BTreeSet, path::PathBuf};

use auth_core::metrics::{DIMENSION_SETS, Event, Function, NAMESPACE};
use serde_json::Value as Json;
use serde_norway::Value;

fn template() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resources(template: &Value) -> impl Iterator<Item = (&str, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("the template has resources")
        .iter()
        .map(|(id, resource)| (id.as_str().unwrap(), resource))
}

fn resources_of_type<'a>(template: &'a Value, kind: &'a str) -> Vec<(&'a str, &'a Value)> {
    resources(template)
        .filter(|(_, resource)| resource["Type"] == kind)
        .collect()
}

/// The logical ids of the functions (`LoginFunction`, ...).
fn function_ids(template: &Value) -> BTreeSet<String> {
    resources_of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, _)| id.to_owned())
        .collect()
}

/// The namespaces the dashboard and the alarms may read: ours, and the services'.
const NAMESPACES: [&str; 3] = [NAMESPACE, "AWS/Lambda", "AWS/ApiGateway"];

/// The value under a tag (`!Sub x`, `!Ref x`), checking the tag.
fn tagged<'a>(value: &'a Value, tag: &str) -> &'a Value {
    let Value::Tagged(tagged) = value else {
        panic!("{value:?} is not a {tag}");
    };
    assert_eq!(tagged.tag.to_string(), tag, "{value:?}");
    &tagged.value
}

/// The condition a resource exists under (its `Condition`), if any.
fn condition_of_resource<'a>(template: &'a Value, id: &str) -> Option<&'a str> {
    template["Resources"][id]["Condition"].as_str()
}

/// `value` with the condition it exists under: an item of a list written
/// `!If [CONDITION, <item>, !Ref AWS::NoValue]` is `<item>` under CONDITION (and is no item
/// otherwise); any other value is itself, always there.
fn conditional_item(value: &Value) -> (Option<&str>, &Value) {
    match value {
        Value::Tagged(choice) if choice.tag == "!If" => {
            let branches = choice.value.as_sequence().unwrap();
            assert_eq!(
                tagged(&branches[2], "!Ref").as_str(),
                Some("AWS::NoValue"),
                "{value:?}: a conditional item is there or not at all"
            );
            (Some(branches[0].as_str().unwrap()), &branches[1])
        }
        other => (None, other),
    }
}

/// The stand-in of a variable of the dashboard's `!Sub [body, {variables}]`: `<Name>` for
/// `!Ref Name`, or for `!If [CONDITION, !Ref Name, placeholder]` where CONDITION is the one
/// the resource exists under and the placeholder a plain string, which names nothing (a graph
/// line with no data) when it does not.
fn variable_stand_in(template: &Value, variable: &str, value: &Value) -> String {
    let reference = match value {
        Value::Tagged(choice) if choice.tag == "!If" => {
            let branches = choice.value.as_sequence().unwrap();
            let resource = tagged(&branches[1], "!Ref").as_str().unwrap();
            assert_eq!(
                branches[0].as_str(),
                condition_of_resource(template, resource),
                "the dashboard's ${{{variable}}} names {resource} under another condition than its own"
            );
            assert!(
                branches[2].is_string(),
                "${{{variable}}}: the placeholder of a resource not deployed is a plain string"
            );
            resource
        }
        other => tagged(other, "!Ref").as_str().unwrap(),
    };
    assert!(
        !template["Resources"][reference].is_null(),
        "the dashboard's ${{{variable}}} names {reference}, which is no resource of the template"
    );
    format!("<{reference}>")
}

/// The dashboard's body as CloudFormation renders it: every `${Name}` or `${Name.Attribute}` of
/// its `!Sub` names a resource of the template that always exists or a pseudo parameter
/// (checked), or a variable of the `!Sub`'s own (`variable_stand_in`: a resource that may not
/// exist), and is replaced by a stand-in of the right shape, `<Name>`, before the JSON is
/// parsed.
fn rendered_dashboard(template: &Value) -> Json {
    let sub = tagged(
        &template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"],
        "!Sub",
    );
    let (body, variables) = match sub {
        Value::String(body) => (body.as_str(), None),
        Value::Sequence(parts) if parts.len() == 2 => (
            parts[0].as_str().expect("the !Sub's body is a string"),
            Some(
                parts[1]
                    .as_mapping()
                    .expect("the !Sub's variables are a mapping"),
            ),
        ),
        other => panic!("the dashboard's body is a !Sub string or [string, variables]: {other:?}"),
    };
    let mut rendered = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        let end = start + rest[start..].find('}').expect("a ${ is closed");
        let name = &rest[start + 2..end];
        let resource = name.split('.').next().unwrap();
        rendered.push_str(&rest[..start]);
        match variables.and_then(|variables| variables.get(name)) {
            Some(value) => rendered.push_str(&variable_stand_in(template, name, value)),
            None => {
                assert!(
                    name.starts_with("AWS::") || !template["Resources"][resource].is_null(),
                    "the dashboard names ${{{name}}}, which is no resource of the template"
                );
                // A reference to a resource that may not exist fails the deploy when it does not.
                assert_eq!(
                    condition_of_resource(template, resource),
                    None,
                    "the dashboard names ${{{name}}} directly, which exists only under a condition: \
                     name it through a variable of the !Sub"
                );
                rendered.push_str(&format!("<{name}>"));
            }
        }
        rest = &rest[end + 1..];
    }
    rendered.push_str(rest);
    serde_json::from_str(&rendered).expect("the dashboard's body is JSON once rendered")
}

/// A metric of a dashboard widget, in CloudWatch's array form:
/// `[namespace, name, dimension, value, ..., {options}]`.
struct DashboardMetric {
    namespace: String,
    name: String,
    dimensions: Vec<(String, String)>,
    stat: Option<String>,
}

fn dashboard_metrics(dashboard: &Json) -> Vec<DashboardMetric> {
    let widgets = dashboard["widgets"].as_array().expect("widgets");
    let mut metrics = Vec::new();
    for widget in widgets {
        let Some(list) = widget["properties"]["metrics"].as_array() else {
            continue;
        };
        for metric in list {
            let parts = metric.as_array().expect("a metric is an array");
            let (options, fields) = match parts.last() {
                Some(Json::Object(_)) => (parts.last(), &parts[..parts.len() - 1]),
                _ => (None, &parts[..]),
            };
            let strings: Vec<&str> = fields
                .iter()
                .map(|field| {
                    field.as_str().unwrap_or_else(|| {
                        panic!(
                            "{metric}: the dashboard spells each metric out (no \"...\" or \".\")"
                        )
                    })
                })
                .collect();
            assert!(
                strings.len() >= 2 && strings.len().is_multiple_of(2) && !strings.contains(&"."),
                "{metric}: namespace, name and dimension pairs, spelled out"
            );
            let stat = options
                .and_then(|options| options["stat"].as_str())
                .or_else(|| widget["properties"]["stat"].as_str());
            metrics.push(DashboardMetric {
                namespace: strings[0].to_owned(),
                name: strings[1].to_owned(),
                dimensions: strings[2..]
                    .chunks(2)
                    .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
                    .collect(),
                stat: stat.map(str::to_owned),
            });
        }
    }
    metrics
}

/// Checks one of our metrics against what a line carries: a known event, one of the lines'
/// dimension sets, `Event` = the metric's own name and `Function` = a function that counts it.
fn assert_emitted(place: &str, name: &str, dimensions: &[(String, String)]) {
    let event = Event::named(name)
        .unwrap_or_else(|| panic!("{place}: {name} is no event the functions emit"));
    let mut keys: Vec<&str> = dimensions.iter().map(|(key, _)| key.as_str()).collect();
    keys.sort_unstable();
    assert!(
        DIMENSION_SETS.iter().any(|set| {
            let mut set = set.to_vec();
            set.sort_unstable();
            set == keys
        }),
        "{place}: {name} by {keys:?}, which is none of the lines' dimension sets {DIMENSION_SETS:?}"
    );
    for (key, value) in dimensions {
        match key.as_str() {
            "Event" => assert_eq!(value, event.name(), "{place}: {name}'s Event dimension"),
            "Function" => assert!(
                event
                    .counted_by()
                    .iter()
                    .any(|function| function.name() == value),
                "{place}: {name} of function {value:?}, which never counts it (Event::counted_by)"
            ),
            other => panic!("{place}: {name} has a dimension {other} no line carries"),
        }
    }
}

#[test]
fn every_metric_of_ours_on_the_dashboard_is_one_the_functions_emit_and_each_is_there() {
    let template = template();
    let dashboard = rendered_dashboard(&template);
    let metrics = dashboard_metrics(&dashboard);
    for metric in &metrics {
        // A misspelt namespace would be an empty line, not an error, on the dashboard.
        assert!(
            NAMESPACES.contains(&metric.namespace.as_str()),
            "the dashboard reads {} of namespace {}",
            metric.name,
            metric.namespace
        );
    }
    let ours: Vec<DashboardMetric> = metrics
        .into_iter()
        .filter(|metric| metric.namespace == NAMESPACE)
        .collect();
    for metric in &ours {
        assert_emitted("the dashboard", &metric.name, &metric.dimensions);
    }
    let shown: BTreeSet<&str> = ours.iter().map(|metric| metric.name.as_str()).collect();
    for event in Event::ALL {
        assert!(
            shown.contains(event.name()),
            "{} is emitted but not on the dashboard",
            event.name()
        );
    }
}

#[test]
fn the_dashboard_shows_p50_and_p99_latency_of_every_function_and_the_apis_5xx() {
    let template = template();
    let metrics = dashboard_metrics(&rendered_dashboard(&template));
    for function in function_ids(&template) {
        for percentile in ["p50", "p99"] {
            assert!(
                metrics.iter().any(|metric| metric.namespace == "AWS/Lambda"
                    && metric.name == "Duration"
                    && metric.dimensions == [("FunctionName".into(), format!("<{function}>"))]
                    && metric.stat.as_deref() == Some(percentile)),
                "no {percentile} Duration of {function} on the dashboard"
            );
        }
    }
    assert!(
        metrics
            .iter()
            .any(|metric| metric.namespace == "AWS/ApiGateway"
                && metric.name == "5xx"
                && metric.dimensions == [("ApiId".into(), "<AuthApi>".into())]),
        "the API's 5xx is not on the dashboard"
    );
}

#[test]
fn the_dashboard_shows_every_alarm() {
    let template = template();
    let dashboard = rendered_dashboard(&template);
    let shown: BTreeSet<&str> = dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|widget| widget["type"] == "alarm")
        .flat_map(|widget| widget["properties"]["alarms"].as_array().unwrap())
        .map(|alarm| alarm.as_str().unwrap())
        .collect();
    for (id, _) in resources_of_type(&template, "AWS::CloudWatch::Alarm") {
        assert!(
            shown.contains(format!("<{id}.Arn>").as_str()),
            "{id} is not on the dashboard"
        );
    }
}

#[test]
fn the_alarms_on_our_metrics_watch_what_the_functions_emit_and_every_function_is_watched() {
    let template = template();
    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    let mut watched_events = BTreeSet::new();
    for (id, alarm) in &alarms {
        let properties = &alarm["Properties"];
        let namespaces = std::iter::once(&properties["Namespace"]).chain(
            properties["Metrics"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|query| &conditional_item(query).1["MetricStat"]["Metric"]["Namespace"]),
        );
        for namespace in namespaces.filter(|namespace| !namespace.is_null()) {
            assert!(
                NAMESPACES.contains(&namespace.as_str().unwrap()),
                "{id} reads namespace {namespace:?}"
            );
        }
        if properties["Namespace"] == NAMESPACE {
            let name = properties["MetricName"].as_str().unwrap();
            let dimensions: Vec<(String, String)> = properties["Dimensions"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|dimension| {
                    let value = dimension["Value"].as_str().unwrap_or_else(|| {
                        panic!("{id}: a dimension of our metrics is a plain value")
                    });
                    (dimension["Name"].as_str().unwrap().to_owned(), value.into())
                })
                .collect();
            assert_emitted(id, name, &dimensions);
            // The alarms watch the total over every function: the [Event] set.
            assert_eq!(dimensions.len(), 1, "{id} watches one function only");
            watched_events.insert(name.to_owned());
        }
    }
    for event in [
        Event::RefreshReuseDetected,
        Event::LoginFailed,
        Event::LoginThrottled,
        Event::StoreUnavailable,
        Event::MailFailed,
        Event::SignedUp,
        // Codes guessed after a right password: the password is known already.
        Event::MfaFailed,
        // The activity log losing entries: no request fails for it, so nothing else tells.
        Event::ActivityWriteFailed,
    ] {
        assert!(
            watched_events.contains(event.name()),
            "no alarm on {}",
            event.name()
        );
    }

    // The Lambda alarms add up every function's metric: a function left out fails unseen. A
    // function that exists only under a condition is read under that condition (a reference to
    // it when it does not exist would fail the deploy). Metric math reads 10 metrics at most.
    for lambda_metric in ["Errors", "Throttles"] {
        let mut watched = BTreeSet::new();
        for (id, alarm) in &alarms {
            let queries = alarm["Properties"]["Metrics"].as_sequence();
            let metrics = queries
                .into_iter()
                .flatten()
                .filter(|query| !conditional_item(query).1["MetricStat"].is_null())
                .count();
            assert!(
                metrics <= 10,
                "{id} reads {metrics} metrics, over metric math's 10"
            );
            for query in queries.into_iter().flatten() {
                let (condition, query) = conditional_item(query);
                let metric = &query["MetricStat"]["Metric"];
                if metric["Namespace"] == "AWS/Lambda" && metric["MetricName"] == lambda_metric {
                    let dimension = &metric["Dimensions"][0];
                    assert_eq!(dimension["Name"], "FunctionName");
                    let function = tagged(&dimension["Value"], "!Ref").as_str().unwrap();
                    assert_eq!(
                        condition,
                        condition_of_resource(&template, function),
                        "{id} reads {function}'s {lambda_metric} under another condition than its own"
                    );
                    watched.insert(function.to_owned());
                }
            }
        }
        assert_eq!(
            watched,
            function_ids(&template),
            "the functions whose {lambda_metric} an alarm watches"
        );
    }
}

#[test]
fn the_function_dimension_names_each_function_by_its_binary() {
    let template = template();
    let emulator = lambda_emulator::template::Template::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"),
    )
    .unwrap();
    let binaries: BTreeSet<String> = function_ids(&template)
        .iter()
        .map(|id| {
            emulator
                .binary(id)
                .expect("every function names its binary")
        })
        .collect();
    let named: BTreeSet<String> = Function::ALL
        .iter()
        .map(|function| function.name().to_owned())
        .collect();
    assert_eq!(named, binaries);
}

/// The condition of `value`, an `!If [CONDITION, ...]`.
fn condition_of(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!If" => tagged.value.as_sequence()?[0].as_str(),
        _ => None,
    }
}

/// `value` is `!If [HasKmsKey, <then>, !Ref AWS::NoValue]`; gives `<then>`.
fn only_with_a_key(value: &Value) -> &Value {
    let branches = tagged(value, "!If").as_sequence().unwrap();
    assert_eq!(branches[0].as_str(), Some("HasKmsKey"), "{value:?}");
    assert_eq!(tagged(&branches[2], "!Ref").as_str(), Some("AWS::NoValue"));
    &branches[1]
}

fn is_the_key(value: &Value) -> bool {
    tagged(value, "!Ref").as_str() == Some("KmsKeyArn")
}

#[test]
fn every_log_group_keeps_logs_for_the_retention_parameter_and_each_function_logs_to_its_own() {
    let template = template();
    let log_groups = resources_of_type(&template, "AWS::Logs::LogGroup");
    for (id, group) in &log_groups {
        let retention = tagged(&group["Properties"]["RetentionInDays"], "!Ref");
        assert_eq!(
            retention.as_str(),
            Some("LogRetentionDays"),
            "{id}'s retention"
        );
    }
    let groups: BTreeSet<&str> = log_groups.iter().map(|(id, _)| *id).collect();
    let mut used = BTreeSet::new();
    for function in function_ids(&template) {
        let logging = &template["Resources"][function.as_str()]["Properties"]["LoggingConfig"];
        let group = tagged(&logging["LogGroup"], "!Ref").as_str().unwrap();
        assert!(
            groups.contains(group),
            "{function} logs to {group}, which is no log group of the stack"
        );
        assert!(
            used.insert(group),
            "{function} shares {group} with another function"
        );
    }
    let access = tagged(
        &template["Resources"]["AuthApi"]["Properties"]["AccessLogSettings"]["DestinationArn"],
        "!GetAtt",
    );
    assert_eq!(access.as_str(), Some("AccessLogGroup.Arn"));
    assert!(groups.contains("AccessLogGroup"));
}

/// A metric line has no `level`, so Lambda's log-level filter files it as INFO: an
/// `ApplicationLogLevel` of WARN or above would drop every metric, and the alarms (missing
/// data is not breaching) would stay quiet.
#[test]
fn no_log_level_filter_drops_the_metric_lines() {
    let template = template();
    let globals = &template["Globals"]["Function"]["LoggingConfig"];
    let mut configs = vec![("Globals".to_owned(), globals)];
    for function in function_ids(&template) {
        let config = &template["Resources"][function.as_str()]["Properties"]["LoggingConfig"];
        configs.push((function, config));
    }
    for (owner, config) in configs {
        let level = &config["ApplicationLogLevel"];
        assert!(
            level.is_null() || ["TRACE", "DEBUG", "INFO"].contains(&level.as_str().unwrap_or("")),
            "{owner} filters application logs at {level:?}"
        );
    }
}

#[test]
fn the_key_of_kms_key_arn_encrypts_environment_tables_and_logs_and_functions_may_only_decrypt() {
    let template = template();
    let environment_key = only_with_a_key(&template["Globals"]["Function"]["KmsKeyArn"]);
    assert!(is_the_key(environment_key));
    for (id, table) in resources_of_type(&template, "AWS::DynamoDB::Table") {
        let encryption = only_with_a_key(&table["Properties"]["SSESpecification"]);
        assert_eq!(encryption["SSEType"].as_str(), Some("KMS"), "{id}");
        assert_eq!(encryption["SSEEnabled"].as_bool(), Some(true), "{id}");
        assert!(is_the_key(&encryption["KMSMasterKeyId"]), "{id}");
    }
    for (id, group) in resources_of_type(&template, "AWS::Logs::LogGroup") {
        let key = &group["Properties"]["KmsKeyId"];
        assert!(is_the_key(only_with_a_key(key)), "{id}");
    }
    for function in function_ids(&template) {
        let policies = &template["Resources"][function.as_str()]["Properties"]["Policies"];
        let kms: Vec<&Value> = policies
            .as_sequence()
            .unwrap()
            .iter()
            .filter(|policy| matches!(policy, Value::Tagged(_)))
            // The signing key's statement (JwtSigningKey) is kms.rs's to check.
            .filter(|policy| condition_of(policy) != Some("SignsInKms"))
            .map(only_with_a_key)
            .flat_map(|policy| policy["Statement"].as_sequence().unwrap())
            .collect();
        assert_eq!(kms.len(), 1, "{function}: one statement on the key");
        assert_eq!(kms[0]["Effect"].as_str(), Some("Allow"));
        assert_eq!(kms[0]["Action"].as_str(), Some("kms:Decrypt"), "{function}");
        assert!(is_the_key(&kms[0]["Resource"]), "{function}");
        // And no other statement names KMS.
        let untagged = serde_norway::to_string(
            &policies
                .as_sequence()
                .unwrap()
                .iter()
                .filter(|policy| !matches!(policy, Value::Tagged(_)))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(!untagged.contains("kms:"), "{function}: {untagged}");
    }
}

#[test]
fn the_access_log_records_the_request_and_never_a_header_cookie_or_body() {
    let template = template();
    let format = template["Resources"]["AuthApi"]["Properties"]["AccessLogSettings"]["Format"]
        .as_str()
        .expect("the access log's format is a plain string");
    let record: Json = serde_json::from_str(format).expect("the access log is one JSON object");
    let variables: BTreeSet<&str> = record
        .as_object()
        .unwrap()
        .values()
        .map(|value| value.as_str().expect("every field is a string"))
        .collect();
    for wanted in [
        "$context.requestId",
        "$context.requestTime",
        "$context.routeKey",
        "$context.status",
        "$context.responseLatency",
        "$context.identity.sourceIp",
        "$context.identity.userAgent",
    ] {
        assert!(variables.contains(wanted), "the access log has no {wanted}");
    }
    for variable in &variables {
        // $request.* holds headers, query strings and bodies; the authorizer's context holds
        // what it put there (the user); the path can hold a token a client put in it.
        assert!(
            variable.starts_with("$context.")
                && !variable.starts_with("$context.authorizer")
                && !variable.contains("path")
                && !variable.to_lowercase().contains("header")
                && !variable.to_lowercase().contains("cookie"),
            "the access log records {variable}"
        );
    }
}
