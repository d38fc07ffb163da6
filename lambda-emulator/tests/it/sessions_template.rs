//! What `template.yaml` gives issue 30's sessions and activity log, held to the code: the
//! sessions table's `user-sessions` index and the activity table are the stores' design
//! (`auth_dynamodb`), the log's settings reach exactly the functions that record
//! (`Function::RECORDING_ACTIVITY`), its retention parameter takes what the functions take, and
//! no function may change, delete or scan what the log holds. (Each function's DynamoDB calls,
//! these included, are `accounts_template`'s table.)

use std::collections::BTreeSet;

use auth_core::{
    Function,
    settings::{Settings, activity},
};
use serde_json::json;
use serde_norway::Value;

use crate::accounts_template::{document, functions_take, id_of, tagged, template};

/// `attribute` is declared on `table`'s properties with the scalar type `kind`.
fn declares(table: &Value, attribute: &str, kind: &str) -> bool {
    table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|definition| {
            definition["AttributeName"] == attribute && definition["AttributeType"] == kind
        })
}

/// `(attribute, key type)` of a key schema.
fn key_schema(schema: &Value) -> Vec<(String, String)> {
    schema
        .as_sequence()
        .unwrap()
        .iter()
        .map(|key| {
            (
                key["AttributeName"].as_str().unwrap().to_owned(),
                key["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_sessions_table_has_the_user_sessions_index_the_store_queries() {
    use auth_dynamodb::sessions::{KEY, OWNER, STARTED_AT, USER_SESSIONS_INDEX};
    let document = document();
    let table = &document["Resources"]["SessionsTable"]["Properties"];
    assert_eq!(
        key_schema(&table["KeySchema"]),
        [(KEY.into(), "HASH".into())]
    );
    let indexes = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(indexes.len(), 1, "one index: each is billed on every write");
    let index = &indexes[0];
    assert_eq!(index["IndexName"], USER_SESSIONS_INDEX);
    assert_eq!(
        key_schema(&index["KeySchema"]),
        [
            (OWNER.into(), "HASH".into()),
            (STARTED_AT.into(), "RANGE".into())
        ]
    );
    assert!(declares(table, OWNER, "S"));
    assert!(declares(table, STARTED_AT, "N"), "sorted as a number");
    // A listing shows what the item holds: no read per session after the Query.
    assert_eq!(index["Projection"]["ProjectionType"], "ALL");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert!(index["ProvisionedThroughput"].is_null());
}

#[test]
fn the_activity_table_is_the_logs_design_kept_recoverable_and_retained() {
    use auth_dynamodb::activity::{EXPIRES_AT, KEY, SORT_KEY};
    let document = document();
    let resource = &document["Resources"]["ActivityTable"];
    assert_eq!(resource["Type"], "AWS::DynamoDB::Table");
    let table = &resource["Properties"];
    assert_eq!(
        key_schema(&table["KeySchema"]),
        [
            (KEY.into(), "HASH".into()),
            (SORT_KEY.into(), "RANGE".into())
        ]
    );
    assert!(declares(table, KEY, "S") && declares(table, SORT_KEY, "S"));
    assert_eq!(
        table["AttributeDefinitions"].as_sequence().unwrap().len(),
        2,
        "no index: the log is read one user's partition at a time"
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        EXPIRES_AT
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    // Evidence after an incident: not deleted with the stack or a replacement.
    assert_eq!(resource["DeletionPolicy"], "Retain");
    assert_eq!(resource["UpdateReplacePolicy"], "Retain");
    assert_eq!(table["DeletionProtectionEnabled"], true);
    assert!(
        resource["Condition"].is_null(),
        "every deployment has the log"
    );
    assert!(
        !document["Outputs"]["ActivityTableName"].is_null(),
        "the operator's `users activity` needs its name"
    );
}

/// What a deployment gives each function, its defaults otherwise.
fn overrides() -> serde_json::Value {
    json!({"Parameters": {
        "JWT_SECRET_KEY": "a-secret-of-at-least-thirty-two-bytes!!",
        "USERS_TABLE": "users",
        "SESSIONS_TABLE": "sessions",
        "ACTIVITY_TABLE": "activity",
    }})
}

#[test]
fn the_activity_logs_settings_reach_exactly_the_functions_that_record() {
    let document = document();
    let template = template();
    for function in Function::ALL {
        let id = id_of(&template, function);
        let variables = template.function(&id, &overrides()).unwrap().variables;
        let given: BTreeSet<&str> = variables
            .keys()
            .map(String::as_str)
            .filter(|name| activity::VARIABLES.contains(name))
            .collect();
        let records = Function::RECORDING_ACTIVITY.contains(&function);
        let expected: BTreeSet<&str> = match records {
            true => activity::VARIABLES.into_iter().collect(),
            false => BTreeSet::new(),
        };
        assert_eq!(given, expected, "{id}");
        if !records {
            continue;
        }
        let declared = &document["Resources"][id.as_str()]["Properties"]["Environment"]["Variables"]
            [activity::TABLE_VAR];
        assert_eq!(
            tagged(declared, "!Ref").as_str(),
            Some("ActivityTable"),
            "{id}"
        );
        // The template's default is the functions' own.
        let settings =
            Settings::from_lookup_for(|name| variables.get(name).cloned(), function.key_use())
                .unwrap_or_else(|error| panic!("{id}: {error}"));
        assert_eq!(settings.activity.table.as_deref(), Some("activity"), "{id}");
        assert_eq!(
            settings.activity.retention,
            activity::DEFAULT_RETENTION,
            "{id}"
        );
    }
}

/// The retention in days, as the template writes it (`!Sub "${ActivityRetentionDays}d"`): every
/// day the parameter allows, the functions take, and they refuse a day more or less.
#[test]
fn the_retention_parameter_takes_what_the_functions_take() {
    let document = document();
    let parameter = &document["Parameters"]["ActivityRetentionDays"];
    assert_eq!(parameter["Type"], "Number");
    let (min, max) = (
        parameter["MinValue"].as_u64().unwrap(),
        parameter["MaxValue"].as_u64().unwrap(),
    );
    let default = parameter["Default"].as_u64().unwrap();
    assert!((min..=max).contains(&default));
    for days in [min, default, max] {
        assert!(
            functions_take(activity::RETENTION_VAR, &format!("{days}d")),
            "{days}d"
        );
    }
    for days in [min - 1, max + 1] {
        assert!(
            !functions_take(activity::RETENTION_VAR, &format!("{days}d")),
            "{days}d"
        );
    }
}

/// Every action any function's policy allows on `resource` (a `!GetAtt X.Arn` or a `!Sub`
/// naming it).
fn actions_on(document: &Value, function: &str, resource: &str) -> Vec<String> {
    let policies = document["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .unwrap();
    let mut actions = Vec::new();
    for statement in policies
        .iter()
        .filter_map(|policy| policy["Statement"].as_sequence())
        .flatten()
    {
        let named = serde_norway::to_string(&statement["Resource"]).unwrap();
        if !named.contains(resource) {
            continue;
        }
        match &statement["Action"] {
            Value::String(action) => actions.push(action.clone()),
            Value::Sequence(list) => actions.extend(
                list.iter()
                    .map(|action| action.as_str().unwrap().to_owned()),
            ),
            other => panic!("{function}: {other:?}"),
        }
    }
    actions
}

/// The log is evidence: an entry is added, read, and ended by the TTL, never rewritten or
/// removed by a function (a stolen session could otherwise erase its own traces). And no
/// function may scan a table, whose every item (hashes, sessions, entries) a scan would read.
#[test]
fn no_function_may_change_delete_or_scan_the_activity_log() {
    let document = document();
    let template = template();
    for function in Function::ALL {
        let id = id_of(&template, function);
        for action in actions_on(&document, &id, "ActivityTable") {
            assert!(
                ["dynamodb:PutItem", "dynamodb:Query"].contains(&action.as_str()),
                "{id} may {action} on the activity log"
            );
            if action == "dynamodb:Query" {
                assert_eq!(function, Function::Sessions, "{id} reads the log");
            }
        }
        let policies =
            serde_norway::to_string(&document["Resources"][id.as_str()]["Properties"]["Policies"])
                .unwrap();
        for forbidden in ["dynamodb:Scan", "dynamodb:*", "dynamodb:BatchWriteItem"] {
            assert!(!policies.contains(forbidden), "{id} may {forbidden}");
        }
    }
}

/// Listing a user's sessions is a Query of the index, never a scan: only the functions that
/// list (logout's scopes, the sessions routes) may query it.
#[test]
fn only_the_functions_that_list_sessions_may_query_the_index() {
    let document = document();
    let template = template();
    let mut listing = BTreeSet::new();
    for function in Function::ALL {
        let id = id_of(&template, function);
        if actions_on(&document, &id, "${SessionsTable.Arn}/index/user-sessions")
            .contains(&"dynamodb:Query".to_owned())
        {
            listing.insert(function.name());
        }
    }
    assert_eq!(listing, BTreeSet::from(["logout", "sessions"]));
}
