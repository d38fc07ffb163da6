//! What `template.yaml` lets the self-service functions do, held to what their code does: only
//! the three that mail may call `ses:SendEmail`, from `MailFrom`'s identity only; each function
//! (the self-service ones and every other) may make exactly the DynamoDB calls its flow makes
//! (`auth_dynamodb`'s stores, `auth_accounts`' flows), on the items its keys name; the five that mail or take a mailed token exist only
//! with `MailFrom` (condition `SelfService`), so that a deployment of before does not change;
//! each function gets the account settings it reads and no other, and the parameters take
//! what the functions take.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use auth_core::{
    Function,
    accounts::ip_limit::LimitedRoute,
    settings::{Settings, accounts::parse_limit},
};
use lambda_emulator::Template;
use serde_json::json;
use serde_norway::Value;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

pub(crate) fn document() -> Value {
    serde_norway::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap()
}

pub(crate) fn template() -> Template {
    Template::load(&path()).unwrap()
}

/// The logical id of the function that runs `function`'s binary.
pub(crate) fn id_of(template: &Template, function: Function) -> String {
    template
        .function_ids()
        .into_iter()
        .find(|id| template.binary(id).as_deref() == Some(function.name()))
        .unwrap_or_else(|| panic!("no function runs {}", function.name()))
}

/// The value under a tag (`!Ref x`), checking the tag.
pub(crate) fn tagged<'a>(value: &'a Value, tag: &str) -> &'a Value {
    let Value::Tagged(tagged) = value else {
        panic!("{value:?} is not a {tag}");
    };
    assert_eq!(tagged.tag.to_string(), tag, "{value:?}");
    &tagged.value
}

/// The statements of `function`'s own policy (the untagged policies: the `!If` ones are KMS's,
/// which operations.rs and kms.rs check).
fn statements<'a>(document: &'a Value, function: &str) -> Vec<&'a Value> {
    document["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{function} has no policies"))
        .iter()
        .filter(|policy| !matches!(policy, Value::Tagged(_)))
        .flat_map(|policy| policy["Statement"].as_sequence().unwrap())
        .inspect(|statement| assert_eq!(statement["Effect"], "Allow", "{function}"))
        .collect()
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Sequence(list) => list
            .iter()
            .map(|action| action.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("an action list: {other:?}"),
    }
}

/// Which table a DynamoDB statement is on: `users`, `users/index/email`, `sessions`,
/// `sessions/index/user-sessions` or `activity`.
fn table_of(function: &str, resource: &Value) -> String {
    let Value::Tagged(tagged) = resource else {
        panic!(
            "{function}: a DynamoDB statement's resource is one table, by reference: {resource:?}"
        );
    };
    match (tagged.tag.to_string().as_str(), tagged.value.as_str()) {
        ("!GetAtt", Some("UsersTable.Arn")) => "users".to_owned(),
        ("!GetAtt", Some("SessionsTable.Arn")) => "sessions".to_owned(),
        ("!GetAtt", Some("ActivityTable.Arn")) => "activity".to_owned(),
        ("!Sub", Some(text)) => {
            let (table, index) = [
                ("users", "${UsersTable.Arn}/index/"),
                ("sessions", "${SessionsTable.Arn}/index/"),
            ]
            .into_iter()
            .find_map(|(table, prefix)| Some((table, text.strip_prefix(prefix)?)))
            .unwrap_or_else(|| panic!("{function}: {text}"));
            format!("{table}/index/{index}")
        }
        other => panic!("{function}: a DynamoDB statement on {other:?}"),
    }
}

/// The kinds of sessions-table item (`count` for `count#*` and `count-sha256#*`) a statement's
/// `dynamodb:LeadingKeys` allows; each must be allowed in its hashed form too.
fn key_kinds(function: &str, statement: &Value) -> BTreeSet<String> {
    let patterns: Vec<&str> =
        statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            .as_sequence()
            .unwrap_or_else(|| {
                panic!("{function}: every statement on the sessions table names its items' keys")
            })
            .iter()
            .map(|pattern| pattern.as_str().unwrap())
            .collect();
    let kinds: BTreeSet<String> = patterns
        .iter()
        .filter_map(|pattern| pattern.strip_suffix("#*"))
        .filter(|kind| !kind.ends_with("-sha256"))
        .map(str::to_owned)
        .collect();
    let expected: BTreeSet<String> = kinds
        .iter()
        .flat_map(|kind| [format!("{kind}#*"), format!("{kind}-sha256#*")])
        .collect();
    let patterns: BTreeSet<String> = patterns.into_iter().map(str::to_owned).collect();
    assert_eq!(
        patterns, expected,
        "{function}: each kind of key, plain and hashed"
    );
    kinds
}

/// `(action, table, item kinds)` of every DynamoDB call `function`'s policy allows.
fn dynamodb_calls(document: &Value, function: &str) -> BTreeSet<(String, String, Vec<String>)> {
    let mut calls = BTreeSet::new();
    for statement in statements(document, function) {
        let actions: Vec<String> = actions(statement)
            .into_iter()
            .filter(|action| action.starts_with("dynamodb:"))
            .collect();
        if actions.is_empty() {
            continue;
        }
        let table = table_of(function, &statement["Resource"]);
        let kinds: Vec<String> = match table.as_str() {
            "sessions" => key_kinds(function, statement).into_iter().collect(),
            _ => Vec::new(),
        };
        for action in actions {
            assert!(!action.contains('*'), "{function}: {action}");
            let action = action.trim_start_matches("dynamodb:").to_owned();
            assert!(
                calls.insert((action.clone(), table.clone(), kinds.clone())),
                "{function}: {action} on {table} twice"
            );
        }
    }
    calls
}

fn calls(list: &[(&str, &str, &[&str])]) -> BTreeSet<(String, String, Vec<String>)> {
    list.iter()
        .map(|(action, table, kinds)| {
            let mut kinds: Vec<String> = kinds.iter().map(|kind| (*kind).to_owned()).collect();
            kinds.sort();
            ((*action).to_owned(), (*table).to_owned(), kinds)
        })
        .collect()
}

/// What each flow calls (`shared/dynamodb/src/{users,sessions}/*.rs` under the flows of
/// `shared/accounts`): a token's records (the user, its revocation and its session) are one
/// `BatchGetItem` over both tables; a user by address is a `Query` of the `email` index then a `GetItem`;
/// a mailed token's record is `mailtoken#<hash>` (put, read, taken by a conditional delete),
/// an address's mail slot `mailslot#<hash>` (claimed by a conditional put, given back by a
/// delete), a per-address count `count#<route>#<ip>#<window>` (an update); a password change
/// reads the caller's token's records in one batch as `/profile` does, and counts a wrong
/// current password in the user's login-throttle window (`login#<username>`). The second
/// factor's (`shared/mfa` over `users/mfa.rs` and `sessions/mfa_challenges.rs`): a login's
/// challenge is `mfa-challenge#<hash>` (put by `/login`, read, counted and taken by
/// `/login/mfa`), a user's factor lock `mfa#<username>` (a login-throttle window), and every
/// write of the factor one conditional update of the user's item. A session's record
/// (`session#<sid>`) is started by the login that issues its first tokens (an update),
/// refreshed, rotated and ended by updates, and a user's sessions are listed by a `Query` of
/// the `user-sessions` index (`shared/dynamodb/src/sessions/listing.rs`); the activity log
/// (`shared/dynamodb/src/activity.rs`) is added to by `PutItem` where an event is recorded
/// (`Function::RECORDING_ACTIVITY`) and read by `Query`, never updated or deleted.
#[test]
fn each_function_may_make_exactly_the_dynamodb_calls_its_flow_makes() {
    let document = document();
    let template = template();
    let recording = ("PutItem", "activity", &[][..]);
    let reading_a_token = [
        ("BatchGetItem", "users", &[][..]),
        ("BatchGetItem", "sessions", &["token", "session"]),
    ];
    let listing_sessions = ("Query", "sessions/index/user-sessions", &[][..]);
    let mailing = [
        ("GetItem", "users", &[][..]),
        ("UpdateItem", "users", &[]),
        ("Query", "users/index/email", &[]),
        ("PutItem", "sessions", &["mailtoken", "mailslot"]),
        ("DeleteItem", "sessions", &["mailslot"]),
        ("UpdateItem", "sessions", &["count"]),
    ];
    let mut signup = mailing.to_vec();
    // The account itself, by a conditional put.
    signup.push(("PutItem", "users", &[]));
    let taking_a_token = [
        ("GetItem", "users", &[][..]),
        ("UpdateItem", "users", &[]),
        ("GetItem", "sessions", &["mailtoken"]),
        ("DeleteItem", "sessions", &["mailtoken"]),
        ("UpdateItem", "sessions", &["count"]),
    ];
    // A confirmed sign-up logs in: it starts the session's record, as a login does.
    let mut verify = taking_a_token.to_vec();
    verify.retain(|call| call.0 != "UpdateItem" || call.1 != "sessions");
    verify.extend([
        ("UpdateItem", "sessions", &["count", "session"][..]),
        recording,
    ]);
    let mut reset_password = taking_a_token.to_vec();
    reset_password.push(recording);
    let expected = [
        (Function::Signup, calls(&signup)),
        (Function::Verify, calls(&verify)),
        (Function::Recover, calls(&mailing)),
        (Function::Resend, calls(&mailing)),
        (
            Function::ChangePassword,
            calls(&[
                reading_a_token[0],
                reading_a_token[1],
                ("UpdateItem", "users", &[]),
                ("UpdateItem", "sessions", &["login", "count"]),
                recording,
            ]),
        ),
        (Function::ResetPassword, calls(&reset_password)),
        // The per-address count of /login, beside its throttle windows, and the record of the
        // session it starts; and the challenge of a user with a second factor, put for
        // /login/mfa to take.
        (
            Function::Login,
            calls(&[
                ("GetItem", "users", &[]),
                (
                    "UpdateItem",
                    "sessions",
                    &["login", "login-device", "count", "session"],
                ),
                ("PutItem", "sessions", &["mfa-challenge"]),
                recording,
            ]),
        ),
        // The challenge read, a wrong code counted on it (UpdateItem) and the challenge taken
        // by one conditional DeleteItem; the user read and the code spent on its item; the
        // factor's lock (`mfa#<username>`, as `login#` is a login's), the count, and the
        // record of the session it starts.
        (
            Function::LoginMfa,
            calls(&[
                ("GetItem", "users", &[]),
                ("UpdateItem", "users", &[]),
                ("GetItem", "sessions", &["mfa-challenge"]),
                ("DeleteItem", "sessions", &["mfa-challenge"]),
                (
                    "UpdateItem",
                    "sessions",
                    &["mfa-challenge", "mfa", "count", "session"],
                ),
                recording,
            ]),
        ),
        // The caller's token read as `/password` reads it; every change of the factor one
        // conditional UpdateItem of the user (the other sessions end there too); the lock and
        // the count.
        (
            Function::Mfa,
            calls(&[
                reading_a_token[0],
                reading_a_token[1],
                ("UpdateItem", "users", &[]),
                ("UpdateItem", "sessions", &["mfa", "count"]),
                recording,
            ]),
        ),
        // A token's records in one batch; a rotation (and its session's refresh noted) by a
        // conditional update, a failed one read back.
        (
            Function::Refresh,
            calls(&[
                reading_a_token[0],
                ("BatchGetItem", "sessions", &["token", "session"]),
                ("GetItem", "sessions", &["token", "session"]),
                ("UpdateItem", "sessions", &["session"]),
                recording,
            ]),
        ),
        (Function::Profile, calls(&reading_a_token)),
        (Function::Authorizer, calls(&reading_a_token)),
        // The keys alone: no store.
        (Function::Discovery, calls(&[])),
        // Revocations put and sessions ended, reading nothing; the scopes that end the
        // user's other sessions (others, global) read the token and list the sessions first.
        (
            Function::Logout,
            calls(&[
                reading_a_token[0],
                reading_a_token[1],
                ("PutItem", "sessions", &["token"]),
                ("UpdateItem", "sessions", &["session"]),
                listing_sessions,
                recording,
            ]),
        ),
        // The caller's token; their sessions listed, one ended (the condition of its update
        // says whose); their activity log read, and a session's end recorded in it.
        (
            Function::Sessions,
            calls(&[
                reading_a_token[0],
                reading_a_token[1],
                listing_sessions,
                ("UpdateItem", "sessions", &["session"]),
                ("Query", "activity", &[]),
                recording,
            ]),
        ),
    ];
    let covered: BTreeSet<&str> = expected
        .iter()
        .map(|(function, _)| function.name())
        .collect();
    assert_eq!(covered.len(), Function::ALL.len(), "every function is here");
    for (function, calls) in expected {
        let id = id_of(&template, function);
        assert_eq!(dynamodb_calls(&document, &id), calls, "{id}");
        // The activity log is written where an event is recorded, and nowhere else.
        assert_eq!(
            calls.contains(&calls_one(recording)),
            Function::RECORDING_ACTIVITY.contains(&function),
            "{id}"
        );
    }
}

fn calls_one(call: (&str, &str, &[&str])) -> (String, String, Vec<String>) {
    calls(&[call]).into_iter().next().unwrap()
}

/// The two resources `ses:SendEmail` may name: `MailFrom`'s identity as an address, and as
/// the domain of that address (SES checks the one that is verified).
fn is_the_mail_from_identity(resources: &Value) -> bool {
    let resources = resources.as_sequence().expect("a list of two identities");
    let address = tagged(&resources[0], "!Sub").as_str();
    let identity = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/";
    let domain = tagged(&resources[1], "!Sub").as_sequence().unwrap();
    let variables = domain[1].as_mapping().unwrap();
    let select = tagged(&variables["Domain"], "!Select")
        .as_sequence()
        .unwrap();
    let split = tagged(&select[1], "!Split").as_sequence().unwrap();
    resources.len() == 2
        && address == Some(format!("{identity}${{MailFrom}}").as_str())
        && domain[0].as_str() == Some(format!("{identity}${{Domain}}").as_str())
        && variables.len() == 1
        && select[0].as_u64() == Some(1)
        && split[0].as_str() == Some("@")
        && tagged(&split[1], "!Ref").as_str() == Some("MailFrom")
}

#[test]
fn only_the_functions_that_mail_may_send_and_only_from_mail_from() {
    let document = document();
    let template = template();
    let mut senders = BTreeSet::new();
    for id in template.function_ids() {
        let policies =
            serde_norway::to_string(&document["Resources"][id.as_str()]["Properties"]["Policies"])
                .unwrap();
        if !policies.contains("ses:") {
            continue;
        }
        senders.insert(id.clone());
        let ses: Vec<&Value> = statements(&document, &id)
            .into_iter()
            .filter(|statement| actions(statement).iter().any(|a| a.starts_with("ses:")))
            .collect();
        assert_eq!(ses.len(), 1, "{id}: one statement on SES");
        assert_eq!(
            actions(ses[0]),
            ["ses:SendEmail"],
            "{id}: sending, nothing else"
        );
        assert!(
            is_the_mail_from_identity(&ses[0]["Resource"]),
            "{id}: ses:SendEmail on {:?}",
            ses[0]["Resource"]
        );
        // And from that very address, whichever identity SES finds verified.
        let from = &ses[0]["Condition"]["StringEquals"]["ses:FromAddress"];
        assert_eq!(tagged(from, "!Ref").as_str(), Some("MailFrom"), "{id}");
        assert_eq!(
            ses[0]["Condition"]
                .as_mapping()
                .map(|condition| condition.len()),
            Some(1),
            "{id}"
        );
    }
    let mailing: BTreeSet<String> = Function::MAILING
        .iter()
        .map(|function| id_of(&template, *function))
        .collect();
    assert_eq!(senders, mailing);
}

#[test]
fn the_functions_that_mail_or_take_mailed_tokens_exist_only_with_mail_from() {
    let document = document();
    let template = template();
    let condition = tagged(&document["Conditions"]["SelfService"], "!Not")
        .as_sequence()
        .unwrap();
    let equals = tagged(&condition[0], "!Equals").as_sequence().unwrap();
    assert_eq!(tagged(&equals[0], "!Ref").as_str(), Some("MailFrom"));
    assert_eq!(equals[1].as_str(), Some(""));
    assert_eq!(
        document["Parameters"]["MailFrom"]["Default"].as_str(),
        Some("")
    );

    let self_service = [
        Function::Signup,
        Function::Verify,
        Function::Recover,
        Function::Resend,
        Function::ResetPassword,
    ];
    for function in Function::ALL {
        let id = id_of(&template, function);
        let resource = &document["Resources"][id.as_str()];
        let expected = match function {
            _ if self_service.contains(&function) => Some("SelfService"),
            // The second factor's, with its key (mfa_template.rs).
            Function::LoginMfa | Function::Mfa => Some("SecondFactor"),
            _ => None,
        };
        assert_eq!(resource["Condition"].as_str(), expected, "{id}");
        // Its log group goes and comes with it.
        let group = tagged(&resource["Properties"]["LoggingConfig"]["LogGroup"], "!Ref")
            .as_str()
            .unwrap();
        assert_eq!(
            document["Resources"][group]["Condition"].as_str(),
            expected,
            "{group}"
        );
    }

    // A deploy with MailFrom and no page for the links, or sign-up on and no mail, stops
    // before any function starts without what it needs.
    let rules = &document["Rules"];
    let app_url = serde_norway::to_string(&rules["AppUrlWithMailFrom"]).unwrap();
    assert!(
        app_url.contains("MailFrom") && app_url.contains("AppUrl"),
        "{app_url}"
    );
    let signup = serde_norway::to_string(&rules["MailFromForSignup"]).unwrap();
    assert!(
        signup.contains("Signup") && signup.contains("MailFrom"),
        "{signup}"
    );
    assert_eq!(
        document["Parameters"]["Signup"]["Default"].as_str(),
        Some("off")
    );
}

#[test]
fn the_users_table_has_the_email_index_the_stores_query() {
    let document = document();
    let table = &document["Resources"]["UsersTable"]["Properties"];
    let indexes = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
    let index = indexes
        .iter()
        .find(|index| index["IndexName"] == auth_dynamodb::users::EMAIL_INDEX)
        .expect("the email index");
    let key = index["KeySchema"].as_sequence().unwrap();
    assert_eq!(key.len(), 1);
    assert_eq!(key[0]["AttributeName"], auth_dynamodb::users::EMAIL);
    assert_eq!(key[0]["KeyType"], "HASH");
    assert_eq!(index["Projection"]["ProjectionType"], "KEYS_ONLY");
    assert!(
        table["AttributeDefinitions"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(
                |attribute| attribute["AttributeName"] == auth_dynamodb::users::EMAIL
                    && attribute["AttributeType"] == "S"
            )
    );
    // On demand, as its table: no throughput of its own to set.
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert!(index["ProvisionedThroughput"].is_null());
}

/// The route whose per-address limit `function` counts, if any.
fn limited_route(function: Function) -> Option<LimitedRoute> {
    match function {
        Function::Login => Some(LimitedRoute::Login),
        Function::Signup => Some(LimitedRoute::Signup),
        Function::Verify => Some(LimitedRoute::Verify),
        Function::Recover => Some(LimitedRoute::Recover),
        Function::Resend => Some(LimitedRoute::Resend),
        Function::ChangePassword | Function::ResetPassword => Some(LimitedRoute::Password),
        Function::LoginMfa | Function::Mfa => Some(LimitedRoute::Mfa),
        Function::Refresh
        | Function::Profile
        | Function::Logout
        | Function::Discovery
        | Function::Authorizer
        | Function::Sessions => None,
    }
}

/// What a deployment with self-service gives each function, its defaults otherwise.
fn overrides() -> serde_json::Value {
    json!({"Parameters": {
        "JWT_SECRET_KEY": "a-secret-of-at-least-thirty-two-bytes!!",
        "USERS_TABLE": "users",
        "SESSIONS_TABLE": "sessions",
        "ACTIVITY_TABLE": "activity",
        "SIGNUP": "open",
        "MAIL_FROM": "no-reply@example.com",
        "APP_URL": "https://app.example.com/account",
    }})
}

#[test]
fn each_function_gets_the_account_settings_it_reads_and_its_limit_is_on_by_default() {
    let template = template();
    let accounts = auth_core::settings::accounts::VARIABLES;
    let mailing = ["MAIL_FROM", "APP_URL"];
    for function in Function::ALL {
        let id = id_of(&template, function);
        let config = template.function(&id, &overrides()).unwrap();
        let given: BTreeSet<&str> = config
            .variables
            .keys()
            .map(String::as_str)
            .filter(|name| accounts.contains(name))
            .collect();
        let mut expected: BTreeSet<&str> = limited_route(function)
            .map(LimitedRoute::variable)
            .into_iter()
            .collect();
        if Function::MAILING.contains(&function) {
            expected.extend(mailing);
        }
        match function {
            Function::Signup => expected.extend(["SIGNUP", "SIGNUP_TOKEN_EXPIRES"]),
            Function::Recover => expected.extend(["RECOVERY_TOKEN_EXPIRES"]),
            Function::Resend => expected.extend(["SIGNUP_TOKEN_EXPIRES", "RECOVERY_TOKEN_EXPIRES"]),
            _ => {}
        }
        assert_eq!(given, expected, "{id}");

        // The template's defaults are settings the function takes, its limit on.
        let variables: BTreeMap<String, String> = config.variables;
        let settings =
            Settings::from_lookup_for(|name| variables.get(name).cloned(), function.key_use())
                .unwrap_or_else(|error| panic!("{id}: {error}"));
        if let Some(route) = limited_route(function) {
            assert!(
                settings.accounts.ip_limits.of(route).is_some(),
                "{id}: {} is off by default",
                route.variable()
            );
        }
    }
}

pub(crate) fn pattern_of(document: &Value, parameter: &str) -> regex::Regex {
    let pattern = document["Parameters"][parameter]["AllowedPattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{parameter} has no AllowedPattern"));
    // CloudFormation matches the whole value (Java regex; these read the same in Rust's).
    regex::Regex::new(pattern).unwrap()
}

/// Whether the functions take `value` for `variable`.
pub(crate) fn functions_take(variable: &str, value: &str) -> bool {
    Settings::from_lookup(|name| match name {
        "JWT_SECRET_KEY" => Some("a-secret-of-at-least-thirty-two-bytes!!".to_owned()),
        _ if name == variable => Some(value.to_owned()),
        _ => None,
    })
    .is_ok()
}

/// What the template lets through, the functions take (a deploy never starts functions that
/// refuse to run); what the functions refuse, the template refuses. Each parameter's default
/// is let through.
#[test]
fn the_self_service_parameters_take_what_the_functions_take() {
    let document = document();
    let cases: [(&str, &str, &[&str], &[&str]); 4] = [
        (
            "Signup",
            "SIGNUP",
            &[
                "off",
                "open",
                "example.com",
                "example.com,corp.example.org",
                "a-b.example",
            ],
            &[
                "",
                "yes",
                "example",
                ",",
                "a b.com",
                "example.com,",
                "-a.example",
                "example.com, example.org",
                "*.example.com",
            ],
        ),
        (
            "AppUrl",
            "APP_URL",
            &[
                "https://app.example.com",
                "https://app.example.com/account",
                "https://app.example.com:8443/a/b?lang=fr",
                "https://app.example.com?lang=fr",
            ],
            &[
                "http://app.example.com/account",
                "https://",
                "https:///account",
                "https://app.example.com/#account",
                "https://app.example.com/a b",
                "app.example.com",
            ],
        ),
        (
            "RecoveryTokenExpires",
            "RECOVERY_TOKEN_EXPIRES",
            &["1h", "60m", "30m", "3600", "900s", "1", "1m"],
            &["2h", "61m", "3601", "3601s", "0", "0s", "1d", "", "soon"],
        ),
        (
            "SignupIpLimit",
            "SIGNUP_IP_LIMIT",
            &["0", "off", "10/1h", "300/5m", "5/60", "1/1d"],
            &[
                "", "10", "10/", "ten/1h", "10/0", "-1/1h", "10/1x", "10 / 1h",
            ],
        ),
    ];
    for (parameter, variable, taken, refused) in cases {
        let pattern = pattern_of(&document, parameter);
        let default = document["Parameters"][parameter]["Default"]
            .as_str()
            .unwrap();
        assert!(
            pattern.is_match(default),
            "{parameter}'s default {default:?}"
        );
        for value in taken {
            assert!(pattern.is_match(value), "{parameter} refuses {value:?}");
            assert!(
                functions_take(variable, value),
                "{variable} refuses {value:?}"
            );
        }
        for value in refused {
            assert!(!pattern.is_match(value), "{parameter} takes {value:?}");
        }
    }
    // Every limit reads the same: its default is a limit, and 0 turns it off.
    for route in LimitedRoute::ALL {
        let parameter = match route {
            LimitedRoute::Login => "LoginIpLimit",
            LimitedRoute::Signup => "SignupIpLimit",
            LimitedRoute::Verify => "VerifyIpLimit",
            LimitedRoute::Recover => "RecoverIpLimit",
            LimitedRoute::Resend => "ResendIpLimit",
            LimitedRoute::Password => "PasswordIpLimit",
            LimitedRoute::Mfa => "MfaIpLimit",
        };
        let pattern = document["Parameters"][parameter]["AllowedPattern"].as_str();
        assert_eq!(
            pattern,
            document["Parameters"]["SignupIpLimit"]["AllowedPattern"].as_str()
        );
        let default = document["Parameters"][parameter]["Default"]
            .as_str()
            .unwrap();
        assert!(
            matches!(parse_limit(default), Ok(Some(_))),
            "{parameter}: {default}"
        );
        let description = document["Parameters"][parameter]["Description"]
            .as_str()
            .unwrap();
        assert!(
            description.contains("0 turns"),
            "{parameter}: {description}"
        );
    }
    // The sender: a plain address, the identity the policy names.
    let mail_from = pattern_of(&document, "MailFrom");
    for address in ["", "no-reply@example.com", "a.b+c@mail.example.co.uk"] {
        assert!(mail_from.is_match(address), "{address}");
    }
    for address in [
        "no-reply",
        "@example.com",
        "no-reply@example",
        "Service <no-reply@example.com>",
        "a@b@example.com",
        "no reply@example.com",
    ] {
        assert!(!mail_from.is_match(address), "{address}");
    }
}
