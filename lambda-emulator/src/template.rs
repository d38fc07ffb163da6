//! What `template.yaml` gives each function: memory, timeout, log format and environment,
//! resolved the way `sam local invoke --env-vars` does it.

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
    #[error("{function}: {variable} has no value: give it one in the overrides")]
    Unresolved { function: String, variable: String },
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
                Some(value) => Some(value.to_owned()),
                None => self.resolve(value),
            };
            let value = resolved.ok_or_else(|| TemplateError::Unresolved {
                function: function.to_owned(),
                variable: name.clone(),
            })?;
            variables.insert(name, value);
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

    /// A literal, or a `Ref` to a parameter with a default. Anything else (a resource, an
    /// intrinsic function) only has a value in a deployed stack.
    fn resolve(&self, value: &Value) -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Tagged(tagged) if tagged.tag == "Ref" => self.parameter_default(&tagged.value),
            Value::Mapping(mapping) if mapping.len() == 1 => {
                self.parameter_default(mapping.get("Ref")?)
            }
            _ => None,
        }
    }

    fn parameter_default(&self, name: &Value) -> Option<String> {
        let default = &self.document["Parameters"][name.as_str()?]["Default"];
        match default {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }
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
            ("OWN", "15m"),
            ("PLAIN", "text"),
            ("SECRET", "s3cret"),
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
