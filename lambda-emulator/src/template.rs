//! What `template.yaml` gives each function: memory, timeout, log format and environment, and
//! the routes of its HTTP API (the one route table: the local server and the events follow it).
//! Variables are overridden the way `sam local invoke --env-vars` does it, and otherwise
//! resolved as CloudFormation would deploy them (a `Fn::If` to `AWS::NoValue` leaves the
//! variable out, where sam local would pass "").

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde_json::Value as Json;
use serde_norway::Value;

use crate::runtime_api::FunctionConfig;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template: {0}")]
    Read(#[from] std::io::Error),
    #[error("the template is not YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("no function {0} in the template")]
    NoSuchFunction(String),
    #[error("{function}: the HttpApi event {event} has no plain Path and Method")]
    UnreadableRoute { function: String, event: String },
    #[error("{function}: {variable} has no value: give it one in the overrides")]
    Unresolved { function: String, variable: String },
}

/// A route of the template's HTTP API: an `HttpApi` event of one function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// In capitals, as API Gateway's `routeKey` has it: `POST`.
    pub method: String,
    pub path: String,
    /// The function's logical id: `LoginFunction`.
    pub function: String,
}

impl Route {
    /// API Gateway's `routeKey`: `POST /login`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

pub struct Template {
    document: Value,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        Self::parse(&std::fs::read_to_string(path)?)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Ok(Self {
            document: serde_norway::from_str(text)?,
        })
    }

    /// The logical ids of the `AWS::Serverless::Function` resources.
    pub fn function_ids(&self) -> Vec<String> {
        let Some(resources) = self.document["Resources"].as_mapping() else {
            return Vec::new();
        };
        resources
            .iter()
            .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
            .filter_map(|(id, _)| id.as_str().map(str::to_owned))
            .collect()
    }

    /// The routes of the HTTP API: every `HttpApi` event of every function, sorted. An
    /// `HttpApi` event without a plain `Path` and `Method` (a catch-all `$default` route, or an
    /// intrinsic function) is an error: API Gateway would route to it, and a route table that
    /// left it out would let the local server and the events miss it unnoticed.
    pub fn routes(&self) -> Result<Vec<Route>, TemplateError> {
        let mut routes = Vec::new();
        for function in self.function_ids() {
            let events = &self.document["Resources"][function.as_str()]["Properties"]["Events"];
            let http_events = events
                .as_mapping()
                .into_iter()
                .flatten()
                .filter(|(_, event)| event["Type"] == "HttpApi");
            for (name, event) in http_events {
                let properties = &event["Properties"];
                // Plain strings only: serde_norway would read `!Sub '/x'` as "/x".
                let (Value::String(method), Value::String(path)) =
                    (&properties["Method"], &properties["Path"])
                else {
                    return Err(TemplateError::UnreadableRoute {
                        function,
                        event: name.as_str().unwrap_or_default().to_owned(),
                    });
                };
                routes.push(Route {
                    method: method.to_uppercase(),
                    path: path.to_owned(),
                    function: function.clone(),
                });
            }
        }
        routes.sort();
        Ok(routes)
    }

    /// The actions `function`'s IAM policy statements allow (`Properties.Policies[].Statement[]`
    /// with `Effect: Allow`), whatever their resources and conditions.
    pub fn allowed_actions(&self, function: &str) -> Vec<String> {
        actions_of(self.allowing_statements(function))
    }

    /// The actions `function`'s IAM policy statements allow on the resource whose logical id
    /// is `resource` (a statement's `Resource` of `!GetAtt <resource>.Arn`, or a `!Sub` of
    /// `${<resource>.Arn}...`, one of a table's indexes), whatever their conditions.
    pub fn allowed_actions_on(&self, function: &str, resource: &str) -> Vec<String> {
        let arn = format!("{resource}.Arn");
        let in_sub = format!("${{{arn}}}");
        let names = |value: &Value| {
            tagged_text(value, "!GetAtt") == Some(arn.as_str())
                || tagged_text(value, "!Sub").is_some_and(|text| text.contains(&in_sub))
        };
        let statements =
            self.allowing_statements(function)
                .filter(|statement| match &statement["Resource"] {
                    Value::Sequence(list) => list.iter().any(names),
                    one => names(one),
                });
        actions_of(statements)
    }

    /// `function`'s IAM policy statements with `Effect: Allow` (those of a policy under an
    /// `!If` are not read).
    fn allowing_statements<'a>(&'a self, function: &str) -> impl Iterator<Item = &'a Value> {
        let policies = &self.document["Resources"][function]["Properties"]["Policies"];
        policies
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|policy| policy["Statement"].as_sequence())
            .flatten()
            .filter(|statement| statement["Effect"] == "Allow")
    }

    /// The Cargo binary `sam build` builds for `function` (`Metadata.BuildProperties.Binary`).
    pub fn binary(&self, function: &str) -> Option<String> {
        self.document["Resources"][function]["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .map(str::to_owned)
    }

    /// `function`'s configuration. `overrides` has the shape of `sam local invoke --env-vars`:
    /// `{"Parameters": {VAR: value}, "FunctionId": {VAR: value}}`; as there, a value overrides
    /// only a variable the template declares, and the function's own entry wins.
    pub fn function(
        &self,
        function: &str,
        overrides: &Json,
    ) -> Result<FunctionConfig, TemplateError> {
        let resource = &self.document["Resources"][function];
        if resource.is_null() {
            return Err(TemplateError::NoSuchFunction(function.to_owned()));
        }
        let properties = &resource["Properties"];
        let globals = &self.document["Globals"]["Function"];
        let property = |name: &str| {
            let own = &properties[name];
            if own.is_null() { &globals[name] } else { own }
        };

        let mut declared: BTreeMap<String, &Value> = BTreeMap::new();
        for scope in [globals, properties] {
            if let Some(variables) = scope["Environment"]["Variables"].as_mapping() {
                for (name, value) in variables {
                    if let Some(name) = name.as_str() {
                        declared.insert(name.to_owned(), value);
                    }
                }
            }
        }
        let mut variables = BTreeMap::new();
        for (name, value) in declared {
            let overridden = overrides[function][&name]
                .as_str()
                .or_else(|| overrides["Parameters"][&name].as_str());
            let resolved = match overridden {
                Some(value) => Resolved::Value(value.to_owned()),
                None => self.resolve(value),
            };
            match resolved {
                Resolved::Value(value) => {
                    variables.insert(name, value);
                }
                Resolved::NoValue => {}
                Resolved::Unknown => {
                    return Err(TemplateError::Unresolved {
                        function: function.to_owned(),
                        variable: name,
                    });
                }
            }
        }

        let logging = property("LoggingConfig");
        Ok(FunctionConfig {
            name: function.to_owned(),
            memory_mb: property("MemorySize").as_u64().unwrap_or(128) as u32,
            timeout: Duration::from_secs(property("Timeout").as_u64().unwrap_or(3)),
            log_format: logging["LogFormat"].as_str().map(str::to_owned),
            variables,
        })
    }

    /// A variable's value as CloudFormation would set it with the parameters' defaults:
    /// literals, `Ref` to a parameter, `Fn::Sub` of a string naming parameters, and `Fn::If` on
    /// the template's conditions. `Ref` to a resource (a table's name, say) only has a value in
    /// a deployed stack.
    fn resolve(&self, value: &Value) -> Resolved {
        match value {
            Value::String(text) => Resolved::Value(text.clone()),
            Value::Number(number) => Resolved::Value(number.to_string()),
            Value::Bool(flag) => Resolved::Value(flag.to_string()),
            _ => match intrinsic(value) {
                Some(("Ref", Value::String(name))) if name == "AWS::NoValue" => Resolved::NoValue,
                Some(("Ref", Value::String(name))) => self.parameter_default(name),
                Some(("Sub", Value::String(text))) => self.substitute(text),
                Some(("If", Value::Sequence(arguments))) if arguments.len() == 3 => {
                    match arguments[0].as_str().and_then(|name| self.condition(name)) {
                        Some(true) => self.resolve(&arguments[1]),
                        Some(false) => self.resolve(&arguments[2]),
                        None => Resolved::Unknown,
                    }
                }
                _ => Resolved::Unknown,
            },
        }
    }

    fn parameter_default(&self, name: &str) -> Resolved {
        match &self.document["Parameters"][name]["Default"] {
            Value::String(text) => Resolved::Value(text.clone()),
            Value::Number(number) => Resolved::Value(number.to_string()),
            _ => Resolved::Unknown,
        }
    }

    /// `Fn::Sub`'s one-string form: each `${Name}` a parameter's value, `${!Literal}` the text
    /// `${Literal}`. A resource's name or attribute (`${Table}`, `${Table.Arn}`) and a pseudo
    /// parameter only have a value in a deployed stack.
    fn substitute(&self, text: &str) -> Resolved {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(length) = rest[start..].find('}') else {
                return Resolved::Unknown;
            };
            let name = &rest[start + 2..start + length];
            match name.strip_prefix('!') {
                Some(literal) => {
                    out.push_str("${");
                    out.push_str(literal);
                    out.push('}');
                }
                None => match self.parameter_default(name) {
                    Resolved::Value(value) => out.push_str(&value),
                    _ => return Resolved::Unknown,
                },
            }
            rest = &rest[start + length + 1..];
        }
        out.push_str(rest);
        Resolved::Value(out)
    }

    fn condition(&self, name: &str) -> Option<bool> {
        self.evaluate(&self.document["Conditions"][name])
    }

    /// `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and `Condition`.
    fn evaluate(&self, expression: &Value) -> Option<bool> {
        let (function, arguments) = intrinsic(expression)?;
        let arguments = || arguments.as_sequence().into_iter().flatten();
        match function {
            "Condition" => self.condition(arguments_str(expression)?),
            "Not" => Some(!self.evaluate(arguments().next()?)?),
            "And" => arguments()
                .map(|a| self.evaluate(a))
                .try_fold(true, |all, one| Some(all && one?)),
            "Or" => arguments()
                .map(|a| self.evaluate(a))
                .try_fold(false, |any, one| Some(any || one?)),
            "Equals" => {
                let values: Vec<Resolved> = arguments().map(|a| self.resolve(a)).collect();
                match values.as_slice() {
                    [Resolved::Value(left), Resolved::Value(right)] => Some(left == right),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// The actions of `statements`, sorted, each once.
fn actions_of<'a>(statements: impl Iterator<Item = &'a Value>) -> Vec<String> {
    let mut actions: Vec<String> = statements
        .flat_map(|statement| match &statement["Action"] {
            Value::String(action) => vec![action.clone()],
            Value::Sequence(list) => list
                .iter()
                .filter_map(|action| action.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

/// The text `value` tags with `tag` (`!GetAtt Table.Arn`: `Table.Arn`), if it is so tagged.
fn tagged_text<'a>(value: &'a Value, tag: &str) -> Option<&'a str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => tagged.value.as_str(),
        _ => None,
    }
}

#[derive(Debug, PartialEq)]
enum Resolved {
    Value(String),
    /// `AWS::NoValue`: the variable is not set at all.
    NoValue,
    Unknown,
}

/// An intrinsic function's name (without `Fn::`) and argument, in the short (`!If [...]`) or
/// the long (`{"Fn::If": [...]}`) form.
fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let name = tagged.tag.to_string();
            let name = name.trim_start_matches('!');
            KNOWN
                .iter()
                .find(|known| **known == name)
                .map(|known| (*known, &tagged.value))
        }
        Value::Mapping(mapping) if mapping.len() == 1 => {
            let (key, argument) = mapping.iter().next()?;
            let key = key.as_str()?;
            let name = key.strip_prefix("Fn::").unwrap_or(key);
            KNOWN
                .iter()
                .find(|known| **known == name)
                .map(|known| (*known, argument))
        }
        _ => None,
    }
}

const KNOWN: [&str; 8] = [
    "Ref",
    "If",
    "Condition",
    "Equals",
    "Not",
    "And",
    "Or",
    "Sub",
];

fn arguments_str(expression: &Value) -> Option<&str> {
    intrinsic(expression)?.1.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"
Parameters:
  Secret:
    Type: String
  Ttl:
    Type: String
    Default: 15m
  Endpoint:
    Type: String
    Default: ""
  Days:
    Type: Number
    Default: 90
Conditions:
  HasEndpoint: !Not [!Equals [!Ref Endpoint, ""]]
  HasTtl: !And [!Not [!Condition HasEndpoint], { "Fn::Equals": [{ Ref: Ttl }, 15m] }]
Globals:
  Function:
    MemorySize: 128
    Timeout: 10
    LoggingConfig:
      LogFormat: JSON
    Environment:
      Variables:
        SECRET: !Ref Secret
        TTL: !Ref Ttl
        TABLE: !Ref Table
        PLAIN: text
        ENDPOINT: !If [HasEndpoint, !Ref Endpoint, !Ref AWS::NoValue]
        SHORT: !If [HasTtl, yes, no]
        RETENTION: !Sub "${Days}d"
        LITERAL: { "Fn::Sub": "${!Days} is ${Days}" }
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Big:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: big
    Properties:
      MemorySize: 1024
      Environment:
        Variables:
          OWN: { Ref: Ttl }
  Small:
    Type: AWS::Serverless::Function
"#;

    fn template() -> Template {
        Template::parse(TEMPLATE).unwrap()
    }

    #[test]
    fn functions_are_the_serverless_function_resources() {
        assert_eq!(template().function_ids(), ["Big", "Small"]);
        assert_eq!(template().binary("Big").as_deref(), Some("big"));
        assert_eq!(template().binary("Small"), None);
    }

    #[test]
    fn variables_resolve_from_overrides_then_parameter_defaults() {
        let overrides = json!({
            "Parameters": {"SECRET": "s3cret", "TABLE": "users", "UNDECLARED": "x"},
            "Big": {"TABLE": "big-users"}
        });
        let big = template().function("Big", &overrides).unwrap();
        let expected: BTreeMap<String, String> = [
            ("LITERAL", "${Days} is 90"),
            ("OWN", "15m"),
            ("PLAIN", "text"),
            ("RETENTION", "90d"),
            ("SECRET", "s3cret"),
            ("SHORT", "yes"),
            ("TABLE", "big-users"),
            ("TTL", "15m"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(big.variables, expected);
        assert_eq!(big.memory_mb, 1024);
        assert_eq!(big.timeout, Duration::from_secs(10));
        assert_eq!(big.log_format.as_deref(), Some("JSON"));

        let small = template().function("Small", &overrides).unwrap();
        assert_eq!(small.variables["TABLE"], "users");
        assert_eq!(small.memory_mb, 128);
        assert!(!small.variables.contains_key("UNDECLARED"));
        assert!(
            !small.variables.contains_key("ENDPOINT"),
            "AWS::NoValue leaves a variable out"
        );
        let overridden =
            json!({"Parameters": {"SECRET": "s", "TABLE": "t", "ENDPOINT": "http://x"}});
        let local = template().function("Small", &overridden).unwrap();
        assert_eq!(
            local.variables["ENDPOINT"], "http://x",
            "a declared variable is overridden"
        );
    }

    #[test]
    fn the_actions_on_a_resource_are_those_of_the_statements_naming_it_or_its_indexes() {
        let template = Template::parse(
            r#"
Resources:
  Small:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:GetItem
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: [dynamodb:Query, dynamodb:Scan]
              Resource: !Sub "${Table.Arn}/index/by-owner"
            - Effect: Allow
              Action: dynamodb:PutItem
              Resource: !GetAtt TableTwo.Arn
            - Effect: Deny
              Action: dynamodb:DeleteItem
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: ses:SendEmail
              Resource:
                - !Sub "arn:aws:ses:x:y:identity/z"
"#,
        )
        .unwrap();
        assert_eq!(
            template.allowed_actions_on("Small", "Table"),
            ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
        );
        assert_eq!(
            template.allowed_actions_on("Small", "TableTwo"),
            ["dynamodb:PutItem"]
        );
        assert!(template.allowed_actions_on("Small", "Other").is_empty());
        assert_eq!(template.allowed_actions("Small").len(), 5);
    }

    /// `${Table}` names a resource, whose name only a deployment has: as unresolved as a
    /// `Ref` to it.
    #[test]
    fn a_sub_naming_a_resource_is_unresolved() {
        let template = Template::parse(
            r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Small:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          ARN: !Sub "${Table.Arn}/index/x"
"#,
        )
        .unwrap();
        let error = template.function("Small", &json!({})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Small: ARN has no value: give it one in the overrides"
        );
    }

    #[test]
    fn a_variable_without_a_value_is_an_error_naming_it() {
        let error = template()
            .function("Small", &json!({"Parameters": {"TABLE": "users"}}))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Small: SECRET has no value: give it one in the overrides"
        );
        assert!(matches!(
            template().function("Nope", &json!({})),
            Err(TemplateError::NoSuchFunction(_))
        ));
    }
}
