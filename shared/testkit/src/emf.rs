//! The EMF specification's rules for a document, as a test checks a line against them
//! (docs.aws.amazon.com, CloudWatch, "Specification: Embedded metric format").

use serde_json::{Map, Value};

/// The units a `MetricDefinition` may name.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Why `document` (one log event's text) is not a valid EMF document, if it is not.
pub fn validate(document: &str) -> Result<(), String> {
    let root: Value =
        serde_json::from_str(document).map_err(|error| format!("not JSON: {error}"))?;
    let root = root.as_object().ok_or("the root is not an object")?;
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no _aws object")?;
    only_members(aws, &["Timestamp", "CloudWatchMetrics"], "_aws")?;
    match aws.get("Timestamp") {
        Some(Value::Number(millis)) if millis.is_u64() => {}
        _ => return Err("_aws.Timestamp is not a number of milliseconds".into()),
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("_aws.CloudWatchMetrics is not an array")?;
    for directive in directives {
        metric_directive(root, directive)?;
    }
    Ok(())
}

fn metric_directive(root: &Map<String, Value>, directive: &Value) -> Result<(), String> {
    let directive = directive
        .as_object()
        .ok_or("a MetricDirective is not an object")?;
    only_members(
        directive,
        &["Namespace", "Dimensions", "Metrics"],
        "MetricDirective",
    )?;
    match directive.get("Namespace").and_then(Value::as_str) {
        Some(namespace) if !namespace.is_empty() && namespace.len() <= 255 => {}
        _ => return Err("Namespace is not a string of 1 to 255 characters".into()),
    }
    let dimension_sets = directive
        .get("Dimensions")
        .and_then(Value::as_array)
        .ok_or("Dimensions is not an array")?;
    for set in dimension_sets {
        let set = set.as_array().ok_or("a DimensionSet is not an array")?;
        if set.len() > 30 {
            return Err("a DimensionSet has more than 30 dimensions".into());
        }
        for name in set {
            let name = name.as_str().ok_or("a dimension name is not a string")?;
            match root.get(name) {
                Some(Value::String(_)) => {}
                Some(_) => return Err(format!("the value of dimension {name} is no string")),
                None => return Err(format!("no member for dimension {name}")),
            }
        }
    }
    let metrics = directive
        .get("Metrics")
        .and_then(Value::as_array)
        .ok_or("Metrics is not an array")?;
    if metrics.len() > 100 {
        return Err("more than 100 metrics in one directive".into());
    }
    for metric in metrics {
        metric_definition(root, metric)?;
    }
    Ok(())
}

fn metric_definition(root: &Map<String, Value>, metric: &Value) -> Result<(), String> {
    let metric = metric
        .as_object()
        .ok_or("a MetricDefinition is not an object")?;
    only_members(
        metric,
        &["Name", "Unit", "StorageResolution"],
        "MetricDefinition",
    )?;
    let name = metric
        .get("Name")
        .and_then(Value::as_str)
        .ok_or("a metric has no Name")?;
    if let Some(unit) = metric.get("Unit")
        && !unit.as_str().is_some_and(|unit| UNITS.contains(&unit))
    {
        return Err(format!("metric {name}: unit {unit} is not one of EMF's"));
    }
    if let Some(resolution) = metric.get("StorageResolution")
        && !matches!(resolution.as_u64(), Some(1 | 60))
    {
        return Err(format!("metric {name}: StorageResolution is not 1 or 60"));
    }
    match root.get(name) {
        Some(Value::Number(_)) => Ok(()),
        Some(Value::Array(values))
            if values.len() <= 100 && values.iter().all(Value::is_number) =>
        {
            Ok(())
        }
        Some(_) => Err(format!("the value of metric {name} is not a number")),
        None => Err(format!("no member for metric {name}")),
    }
}

/// The specification's objects "MUST NOT contain any additional members".
fn only_members(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(format!(
            "{what} has a member {key} the specification does not define"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use auth_core::metrics::{Event, Function, line};
    use serde_json::json;

    use super::*;

    /// The example document of the EMF specification.
    const SPEC_EXAMPLE: &str = r#"{
      "_aws": {
        "Timestamp": 1574109732004,
        "CloudWatchMetrics": [
          {
            "Namespace": "lambda-function-metrics",
            "Dimensions": [["functionVersion"]],
            "Metrics": [
              {
                "Name": "time",
                "Unit": "Milliseconds",
                "StorageResolution": 60
              }
            ]
          }
        ]
      },
      "functionVersion": "$LATEST",
      "time": 100,
      "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee"
    }"#;

    const AT: Duration = Duration::from_millis(1_764_489_600_123);

    #[test]
    fn the_specifications_example_is_valid() {
        assert_eq!(validate(SPEC_EXAMPLE), Ok(()));
    }

    #[test]
    fn the_validator_refuses_what_the_specification_forbids() {
        let example: Value = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        let broken = |change: &dyn Fn(&mut Value)| {
            let mut document = example.clone();
            change(&mut document);
            validate(&document.to_string())
        };
        for (why, change) in [
            (
                "no _aws",
                &(|d: &mut Value| d["_aws"] = json!(null)) as &dyn Fn(&mut Value),
            ),
            ("timestamp", &|d| d["_aws"]["Timestamp"] = json!("now")),
            ("no metric member", &|d| {
                d.as_object_mut().unwrap().remove("time");
            }),
            ("metric not a number", &|d| d["time"] = json!("100")),
            ("no dimension member", &|d| {
                d.as_object_mut().unwrap().remove("functionVersion");
            }),
            ("dimension not a string", &|d| {
                d["functionVersion"] = json!(1)
            }),
            ("unknown unit", &|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Things")
            }),
            ("extra member", &|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Extra"] = json!(1)
            }),
            ("no namespace", &|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("")
            }),
        ] {
            assert!(broken(change).is_err(), "{why}");
        }
        assert!(validate("prefix {}").is_err());
    }

    #[test]
    fn every_line_is_one_valid_emf_document_on_one_line() {
        for function in Function::ALL {
            for event in Event::ALL {
                let text = line(function, event, AT);
                assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
                assert_eq!(validate(text.trim_end()), Ok(()), "{text}");
            }
        }
    }
}
