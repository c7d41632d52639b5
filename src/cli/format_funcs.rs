//! docker's template functions (`json`, `join`, `split`, `upper`, `lower`, `title`, `pad`,
//! `truncate`; gtmpl has `println` and `index`) and the conversion of JSON values into
//! gtmpl's: objects become structs (a missing field is an error, as in Go), except the
//! fields docker keeps as maps (`Labels`, `Networks`…), where a missing key is empty.

use gtmpl::{Func, FuncError, Value};
use serde_json::Value as Json;

use super::format_print;

/// The functions docker adds to Go's.
pub const FUNCS: &[(&str, Func)] = &[
    ("json", json as Func),
    ("join", join as Func),
    ("split", split as Func),
    ("upper", upper as Func),
    ("lower", lower as Func),
    ("title", title as Func),
    ("pad", pad as Func),
    ("truncate", truncate as Func),
];

/// Go's printing of values (gtmpl prints Rust's debug form), for actions and `print`/`println`.
pub const GO_PRINTING: &[(&str, Func)] = &[
    ("_print", format_print::print_value as Func),
    ("_label", format_print::label as Func),
    ("print", format_print::print as Func),
    ("println", format_print::println as Func),
];

/// Fields whose JSON objects are Go maps in docker's types.
const MAP_FIELDS: &[&str] = &[
    "Labels",
    "Options",
    "ExposedPorts",
    "Volumes",
    "Ports",
    "Networks",
    "Data",
    "DriverOpts",
    "Annotations",
];

/// A JSON value as gtmpl's; `map` says whether an object is a Go map.
pub fn to_gtmpl(v: &Json, map: bool) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::from(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(|x| to_gtmpl(x, false)).collect()),
        Json::Object(o) => {
            let fields = o
                .iter()
                .map(|(k, x)| (k.clone(), to_gtmpl(x, MAP_FIELDS.contains(&k.as_str()))))
                .collect();
            if map {
                Value::Map(fields)
            } else {
                Value::Object(fields)
            }
        }
    }
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::NoValue | Value::Nil | Value::Function(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Json::from(u)
            } else if let Some(i) = n.as_i64() {
                Json::from(i)
            } else {
                n.as_f64().map(Json::from).unwrap_or(Json::Null)
            }
        }
        Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Value::Object(o) | Value::Map(o) => {
            // Sorted keys: a map's order is not kept by gtmpl.
            let sorted: std::collections::BTreeMap<_, _> = o.iter().collect();
            Json::Object(
                sorted
                    .into_iter()
                    .map(|(k, x)| (k.clone(), to_json(x)))
                    .collect(),
            )
        }
    }
}

fn args_n<'a>(name: &str, args: &'a [Value], n: usize) -> Result<&'a [Value], FuncError> {
    if args.len() == n {
        Ok(args)
    } else {
        Err(FuncError::ExactlyXArgs(name.into(), n))
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::NoValue | Value::Nil => String::new(),
        other => format_print::go_text(other),
    }
}

fn number(name: &str, v: &Value) -> Result<usize, FuncError> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(|u| u as usize)
            .ok_or_else(|| FuncError::Generic(format!("{name}: expected a count, got {n}"))),
        other => Err(FuncError::Generic(format!(
            "{name}: expected a count, got {other}"
        ))),
    }
}

fn json(args: &[Value]) -> Result<Value, FuncError> {
    let a = args_n("json", args, 1)?;
    Ok(Value::String(to_json(&a[0]).to_string()))
}

fn join(args: &[Value]) -> Result<Value, FuncError> {
    let a = args_n("join", args, 2)?;
    let sep = text(&a[1]);
    match &a[0] {
        Value::Array(items) => Ok(Value::String(
            items.iter().map(text).collect::<Vec<_>>().join(&sep),
        )),
        other => Ok(Value::String(text(other))),
    }
}

fn split(args: &[Value]) -> Result<Value, FuncError> {
    let a = args_n("split", args, 2)?;
    let (s, sep) = (text(&a[0]), text(&a[1]));
    Ok(Value::Array(
        s.split(sep.as_str())
            .map(|p| Value::String(p.into()))
            .collect(),
    ))
}

fn upper(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(
        text(&args_n("upper", args, 1)?[0]).to_uppercase(),
    ))
}

fn lower(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(
        text(&args_n("lower", args, 1)?[0]).to_lowercase(),
    ))
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn title(args: &[Value]) -> Result<Value, FuncError> {
    let s = text(&args_n("title", args, 1)?[0]);
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric() && c != '_' && c != '\'';
    }
    Ok(Value::String(out))
}

/// docker's `pad S BEFORE AFTER`: spaces around `S`.
fn pad(args: &[Value]) -> Result<Value, FuncError> {
    let a = args_n("pad", args, 3)?;
    let (before, after) = (number("pad", &a[1])?, number("pad", &a[2])?);
    Ok(Value::String(format!(
        "{}{}{}",
        " ".repeat(before),
        text(&a[0]),
        " ".repeat(after)
    )))
}

/// docker's `truncate S N`: at most N characters.
fn truncate(args: &[Value]) -> Result<Value, FuncError> {
    let a = args_n("truncate", args, 2)?;
    let n = number("truncate", &a[1])?;
    Ok(Value::String(text(&a[0]).chars().take(n).collect()))
}
