//! The 18 intrinsic functions (`States.Format(...)`, `States.Hash(...)`, ...), parsed once at
//! definition time and evaluated against a state's data and the context object.

use crate::path::{Path, json_eq};
use base64::Engine;
use serde_json::{Map, Number, Value};

/// A parsed intrinsic function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Intrinsic {
    func: Func,
    args: Vec<Arg>,
    text: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

const FUNCS: [(&str, Func); 18] = [
    ("States.Format", Func::Format),
    ("States.StringToJson", Func::StringToJson),
    ("States.JsonToString", Func::JsonToString),
    ("States.Array", Func::Array),
    ("States.ArrayPartition", Func::ArrayPartition),
    ("States.ArrayContains", Func::ArrayContains),
    ("States.ArrayRange", Func::ArrayRange),
    ("States.ArrayGetItem", Func::ArrayGetItem),
    ("States.ArrayLength", Func::ArrayLength),
    ("States.ArrayUnique", Func::ArrayUnique),
    ("States.Base64Encode", Func::Base64Encode),
    ("States.Base64Decode", Func::Base64Decode),
    ("States.Hash", Func::Hash),
    ("States.JsonMerge", Func::JsonMerge),
    ("States.MathRandom", Func::MathRandom),
    ("States.MathAdd", Func::MathAdd),
    ("States.StringSplit", Func::StringSplit),
    ("States.UUID", Func::Uuid),
];

impl Func {
    fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("States.?", |(n, _)| n)
    }

    /// Allowed argument counts (min, max).
    fn arity(self) -> (usize, usize) {
        match self {
            Func::Format => (1, usize::MAX),
            Func::Array => (0, usize::MAX),
            Func::StringToJson | Func::JsonToString | Func::ArrayLength | Func::ArrayUnique => {
                (1, 1)
            }
            Func::Base64Encode | Func::Base64Decode => (1, 1),
            Func::ArrayPartition | Func::ArrayContains | Func::ArrayGetItem | Func::Hash => (2, 2),
            Func::MathAdd | Func::StringSplit => (2, 2),
            Func::ArrayRange | Func::JsonMerge => (3, 3),
            Func::MathRandom => (2, 3),
            Func::Uuid => (0, 0),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Arg {
    /// A string literal: its value, and for `States.Format` the positions of `{}` that were not
    /// escaped.
    Str {
        value: String,
        placeholders: Vec<usize>,
    },
    Lit(Value),
    Path(Path),
    Call(Box<Intrinsic>),
}

/// Why an intrinsic function could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum IntrinsicError {
    /// A path argument selected nothing (the service fails with `States.Runtime`).
    PathNotFound(String),
    /// The function refused its arguments (`States.IntrinsicFailure`).
    Failure(String),
}

/// The largest input, in characters, of the Base64 and hash functions.
const MAX_STRING_INPUT: usize = 10_000;
/// The most elements `States.ArrayRange` may produce.
const MAX_RANGE: i64 = 1000;

impl Intrinsic {
    /// Whether `text` looks like an intrinsic call (starts with `States.`), as opposed to a path.
    pub fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// Parses a call such as `States.Format('Hello, {}', $.name)`.
    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        let mut p = P {
            s: text.as_bytes(),
            i: 0,
        };
        p.ws();
        let call = p.call(text)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!(
                "unexpected characters after the call at position {}",
                p.i
            ));
        }
        Ok(call)
    }

    /// The text the call was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Evaluates the call with `input` for `$` paths and `context` for `$$` paths.
    pub fn eval(&self, input: &Value, context: &Value) -> Result<Value, IntrinsicError> {
        let mut vals = Vec::with_capacity(self.args.len());
        for a in &self.args {
            vals.push(match a {
                Arg::Str { value, .. } => Value::String(value.clone()),
                Arg::Lit(v) => v.clone(),
                Arg::Path(p) => p
                    .select(if p.context { context } else { input })
                    .ok_or_else(|| IntrinsicError::PathNotFound(p.as_str().to_string()))?,
                Arg::Call(c) => c.eval(input, context)?,
            });
        }
        let name = self.func.name();
        let fail = |why: String| IntrinsicError::Failure(why);
        let int_arg = |v: &Value, what: &str| -> Result<i64, IntrinsicError> {
            match v {
                Value::Number(n) => n
                    .as_i64()
                    .or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                            .map(|f| f as i64)
                    })
                    .ok_or_else(|| {
                        fail(format!("The {what} argument of {name} must be an integer"))
                    }),
                _ => Err(fail(format!(
                    "The {what} argument of {name} must be an integer"
                ))),
            }
        };
        let str_arg = |v: &Value, what: &str| -> Result<String, IntrinsicError> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| fail(format!("The {what} argument of {name} must be a string")))
        };
        let arr_arg = |v: &Value| -> Result<Vec<Value>, IntrinsicError> {
            v.as_array()
                .cloned()
                .ok_or_else(|| fail(format!("The first argument of {name} must be an array")))
        };
        Ok(match self.func {
            Func::Format => {
                let (template, holes) = match &self.args[0] {
                    Arg::Str {
                        value,
                        placeholders,
                    } => (value.clone(), placeholders.clone()),
                    _ => {
                        let t = str_arg(&vals[0], "first")?;
                        let holes = t.match_indices("{}").map(|(i, _)| i).collect();
                        (t, holes)
                    }
                };
                let rest = &vals[1..];
                if holes.len() != rest.len() {
                    return Err(fail(format!(
                        "Number of arguments in {name} do not match the occurrences of {{}}: expected {}, got {}",
                        holes.len(),
                        rest.len()
                    )));
                }
                let mut out = String::new();
                let mut last = 0;
                for (hole, v) in holes.iter().zip(rest) {
                    out.push_str(&template[last..*hole]);
                    match v {
                        Value::String(s) => out.push_str(s),
                        Value::Number(_) | Value::Bool(_) | Value::Null => {
                            out.push_str(&v.to_string())
                        }
                        _ => {
                            return Err(fail(format!(
                                "{name} can only substitute strings, numbers, booleans and null"
                            )));
                        }
                    }
                    last = hole + 2;
                }
                out.push_str(&template[last..]);
                Value::String(out)
            }
            Func::StringToJson => {
                let s = str_arg(&vals[0], "first")?;
                if s.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&s).map_err(|e| {
                        fail(format!("{name} could not parse its argument as JSON: {e}"))
                    })?
                }
            }
            Func::JsonToString => Value::String(vals[0].to_string()),
            Func::Array => Value::Array(vals),
            Func::ArrayPartition => {
                let items = arr_arg(&vals[0])?;
                let size = int_arg(&vals[1], "second")?;
                if size <= 0 {
                    return Err(fail(format!(
                        "The chunk size argument of {name} must be a positive integer"
                    )));
                }
                Value::Array(
                    items
                        .chunks(size as usize)
                        .map(|c| Value::Array(c.to_vec()))
                        .collect(),
                )
            }
            Func::ArrayContains => {
                let items = arr_arg(&vals[0])?;
                Value::Bool(items.iter().any(|x| json_eq(x, &vals[1])))
            }
            Func::ArrayRange => {
                let (start, end, step) = (
                    int_arg(&vals[0], "first")?,
                    int_arg(&vals[1], "second")?,
                    int_arg(&vals[2], "third")?,
                );
                if step == 0 {
                    return Err(fail(format!(
                        "The step argument of {name} must not be zero"
                    )));
                }
                // In i128: the span of two i64 arguments overflows i64.
                let count: i128 = if (step > 0 && end < start) || (step < 0 && end > start) {
                    0
                } else {
                    (i128::from(end) - i128::from(start)) / i128::from(step) + 1
                };
                if count > i128::from(MAX_RANGE) {
                    return Err(fail(format!(
                        "{name} can produce at most {MAX_RANGE} elements, this call produces {count}"
                    )));
                }
                Value::Array(
                    (0..count as i64)
                        .map(|k| Value::from(start + k * step))
                        .collect(),
                )
            }
            Func::ArrayGetItem => {
                let items = arr_arg(&vals[0])?;
                let idx = int_arg(&vals[1], "second")?;
                usize::try_from(idx)
                    .ok()
                    .and_then(|i| items.get(i).cloned())
                    .ok_or_else(|| {
                        fail(format!(
                            "The index {idx} is out of bounds of the array of length {} in {name}",
                            items.len()
                        ))
                    })?
            }
            Func::ArrayLength => Value::from(arr_arg(&vals[0])?.len()),
            Func::ArrayUnique => {
                let mut out: Vec<Value> = Vec::new();
                for v in arr_arg(&vals[0])? {
                    if !out.iter().any(|x| json_eq(x, &v)) {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            Func::Base64Encode => {
                let s = str_arg(&vals[0], "first")?;
                if s.chars().count() > MAX_STRING_INPUT {
                    return Err(fail(format!(
                        "The input of {name} exceeds {MAX_STRING_INPUT} characters"
                    )));
                }
                Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
            }
            Func::Base64Decode => {
                let s = str_arg(&vals[0], "first")?;
                if s.chars().count() > MAX_STRING_INPUT {
                    return Err(fail(format!(
                        "The input of {name} exceeds {MAX_STRING_INPUT} characters"
                    )));
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s.as_bytes())
                    .map_err(|e| fail(format!("{name} could not decode its argument: {e}")))?;
                Value::String(
                    String::from_utf8(bytes)
                        .map_err(|_| fail(format!("{name} decoded bytes that are not UTF-8")))?,
                )
            }
            Func::Hash => {
                let data = match &vals[0] {
                    Value::String(s) => s.clone(),
                    Value::Null => {
                        return Err(fail(format!(
                            "The first argument of {name} must not be null"
                        )));
                    }
                    other => other.to_string(),
                };
                if data.chars().count() > MAX_STRING_INPUT {
                    return Err(fail(format!(
                        "The input of {name} exceeds {MAX_STRING_INPUT} characters"
                    )));
                }
                let algo = str_arg(&vals[1], "second")?;
                Value::String(hash_hex(&algo, data.as_bytes()).ok_or_else(|| {
                    fail(format!("The hash algorithm '{algo}' is not supported by {name}: use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"))
                })?)
            }
            Func::JsonMerge => {
                let (Value::Object(a), Value::Object(b)) = (&vals[0], &vals[1]) else {
                    return Err(fail(format!(
                        "The first two arguments of {name} must be JSON objects"
                    )));
                };
                if vals[2] != Value::Bool(false) {
                    return Err(fail(format!(
                        "{name} supports only a shallow merge: its third argument must be false"
                    )));
                }
                let mut out: Map<String, Value> = a.clone();
                for (k, v) in b {
                    out.insert(k.clone(), v.clone());
                }
                Value::Object(out)
            }
            Func::MathRandom => {
                let (start, end) = (int_arg(&vals[0], "first")?, int_arg(&vals[1], "second")?);
                if end <= start {
                    return Err(fail(format!(
                        "The end argument of {name} must be greater than its start argument"
                    )));
                }
                let n = match vals.get(2) {
                    Some(seed) => {
                        fastrand::Rng::with_seed(int_arg(seed, "third")? as u64).i64(start..end)
                    }
                    None => fastrand::i64(start..end),
                };
                Value::from(n)
            }
            Func::MathAdd => {
                let (a, b) = (int_arg(&vals[0], "first")?, int_arg(&vals[1], "second")?);
                let range = i64::from(i32::MIN)..=i64::from(i32::MAX);
                if !range.contains(&a) || !range.contains(&b) {
                    return Err(fail(format!(
                        "The arguments of {name} must be within the range of a 32-bit integer"
                    )));
                }
                Value::Number(Number::from(a + b))
            }
            Func::StringSplit => {
                let s = str_arg(&vals[0], "first")?;
                let delims = str_arg(&vals[1], "second")?;
                Value::Array(
                    s.split(|c: char| delims.contains(c))
                        .filter(|p| !p.is_empty())
                        .map(|p| Value::String(p.to_string()))
                        .collect(),
                )
            }
            Func::Uuid => Value::String(uuid::Uuid::new_v4().to_string()),
        })
    }
}

pub(crate) fn hash_hex(algo: &str, data: &[u8]) -> Option<String> {
    use sha2::Digest;
    let bytes: Vec<u8> = match algo {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    };
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn call(&mut self, whole: &str) -> Result<Intrinsic, String> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
        {
            self.i += 1;
        }
        let name =
            std::str::from_utf8(&self.s[start..self.i]).map_err(|_| "invalid UTF-8".to_string())?;
        let func = FUNCS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| format!("'{name}' is not an intrinsic function"))?;
        self.ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Err(format!("expected '(' after {name}"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg(whole)?);
                self.ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(format!("expected ',' or ')' in the arguments of {name}")),
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(format!(
                "{name} takes {expected} argument(s), {} given",
                args.len()
            ));
        }
        let text = std::str::from_utf8(&self.s[start..self.i])
            .unwrap_or(whole)
            .to_string();
        Ok(Intrinsic { func, args, text })
    }

    fn arg(&mut self, whole: &str) -> Result<Arg, String> {
        match self.s.get(self.i) {
            Some(b'\'') => self.string(),
            Some(b'$') => {
                // A path runs to the next ',' or ')' outside brackets and quotes.
                let start = self.i;
                let (mut depth, mut quote) = (0i32, None::<u8>);
                while let Some(&c) = self.s.get(self.i) {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, b'\'' | b'"') => quote = Some(c),
                        (None, b'[' | b'(') => depth += 1,
                        (None, b']') => depth -= 1,
                        (None, b')') if depth > 0 => depth -= 1,
                        (None, b',' | b')') if depth == 0 => break,
                        _ => {}
                    }
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i])
                    .map_err(|_| "invalid UTF-8".to_string())?
                    .trim_end();
                Path::parse(text).map(Arg::Path).map_err(|e| e.to_string())
            }
            Some(b'S') => Ok(Arg::Call(Box::new(self.call(whole)?))),
            Some(_) => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i])
                    .map_err(|_| "invalid UTF-8".to_string())?;
                match serde_json::from_str::<Value>(t) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Ok(Arg::Lit(v)),
                    _ => Err(format!("invalid argument '{t}'")),
                }
            }
            None => Err("unexpected end of the call".into()),
        }
    }

    fn string(&mut self) -> Result<Arg, String> {
        self.i += 1;
        let mut out = Vec::new();
        let mut placeholders = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err("unterminated string literal".into()),
                Some(b'\\') => {
                    let c = *self
                        .s
                        .get(self.i + 1)
                        .ok_or("unterminated string literal")?;
                    out.push(c);
                    self.i += 2;
                }
                Some(b'\'') => {
                    self.i += 1;
                    break;
                }
                Some(b'{') if self.s.get(self.i + 1) == Some(&b'}') => {
                    placeholders.push(out.len());
                    out.extend_from_slice(b"{}");
                    self.i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        let value =
            String::from_utf8(out).map_err(|_| "invalid UTF-8 in a string literal".to_string())?;
        Ok(Arg::Str {
            value,
            placeholders,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(call: &str, input: Value) -> Result<Value, IntrinsicError> {
        Intrinsic::parse(call)
            .unwrap_or_else(|e| panic!("{call}: {e}"))
            .eval(&input, &json!({"Execution": {"Name": "run-1"}}))
    }

    fn failure(call: &str, input: Value) -> String {
        match ev(call, input) {
            Err(IntrinsicError::Failure(m)) => m,
            other => panic!("{call}: expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn format() {
        assert_eq!(
            ev(
                "States.Format('Hello, my name is {}.', $.name)",
                json!({"name": "Arnav"})
            ),
            Ok(json!("Hello, my name is Arnav."))
        );
        assert_eq!(
            ev(
                "States.Format('{} {} {} {}', 1, true, null, 'x')",
                json!({})
            ),
            Ok(json!("1 true null x"))
        );
        assert_eq!(
            ev(
                r"States.Format('\{\} and {} it\'s \\', $$.Execution.Name)",
                json!({})
            ),
            Ok(json!(r"{} and run-1 it's \"))
        );
        assert_eq!(
            ev("States.Format($.t, 5)", json!({"t": "n={}"})),
            Ok(json!("n=5"))
        );
        assert!(failure("States.Format('{}', 1, 2)", json!({})).contains("do not match"));
        assert!(failure("States.Format('{}', $.o)", json!({"o": {}})).contains("substitute"));
        assert_eq!(
            ev("States.Format('{}', $.missing)", json!({})),
            Err(IntrinsicError::PathNotFound("$.missing".into()))
        );
    }

    #[test]
    fn json_conversions() {
        assert_eq!(
            ev("States.StringToJson($.s)", json!({"s": "{\"a\":[1,2]}"})),
            Ok(json!({"a": [1, 2]}))
        );
        assert!(failure("States.StringToJson($.s)", json!({"s": "{bad"})).contains("JSON"));
        assert_eq!(
            ev("States.JsonToString($.o)", json!({"o": {"b": 1, "a": "x"}})),
            Ok(json!("{\"b\":1,\"a\":\"x\"}"))
        );
    }

    #[test]
    fn arrays() {
        assert_eq!(
            ev(
                "States.Array('a', 1, $.x, States.Array())",
                json!({"x": {"k": 1}})
            ),
            Ok(json!(["a", 1, {"k": 1}, []]))
        );
        assert_eq!(
            ev(
                "States.ArrayPartition($.a, 4)",
                json!({"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]})
            ),
            Ok(json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]]))
        );
        assert!(failure("States.ArrayPartition($.a, 0)", json!({"a": [1]})).contains("positive"));
        assert_eq!(
            ev(
                "States.ArrayContains($.a, $.v)",
                json!({"a": [1, {"x": 2}], "v": {"x": 2}})
            ),
            Ok(json!(true))
        );
        assert_eq!(
            ev("States.ArrayContains($.a, 3)", json!({"a": [1, 2]})),
            Ok(json!(false))
        );
        assert_eq!(
            ev("States.ArrayRange(1, 9, 2)", json!({})),
            Ok(json!([1, 3, 5, 7, 9]))
        );
        assert_eq!(
            ev("States.ArrayRange(5, 1, -2)", json!({})),
            Ok(json!([5, 3, 1]))
        );
        assert_eq!(ev("States.ArrayRange(5, 1, 2)", json!({})), Ok(json!([])));
        assert!(failure("States.ArrayRange(0, 1000, 1)", json!({})).contains("at most 1000"));
        assert!(failure("States.ArrayRange(0, 1, 0)", json!({})).contains("zero"));
        assert!(
            failure(
                "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)",
                json!({})
            )
            .contains("at most 1000")
        );
        assert_eq!(
            ev("States.ArrayGetItem($.a, 1)", json!({"a": [1, 2, 3]})),
            Ok(json!(2))
        );
        assert!(
            failure("States.ArrayGetItem($.a, 3)", json!({"a": [1, 2, 3]}))
                .contains("out of bounds")
        );
        assert_eq!(
            ev("States.ArrayLength($.a)", json!({"a": [1, 2, 3]})),
            Ok(json!(3))
        );
        assert_eq!(
            ev(
                "States.ArrayUnique($.a)",
                json!({"a": [1, 2, 3, 3, 3, 3, 3, 3, 4, 1.0]})
            ),
            Ok(json!([1, 2, 3, 4]))
        );
        assert!(failure("States.ArrayLength($.a)", json!({"a": "no"})).contains("array"));
    }

    #[test]
    fn encodings_and_hashes() {
        assert_eq!(
            ev("States.Base64Encode($.s)", json!({"s": "Data to encode"})),
            Ok(json!("RGF0YSB0byBlbmNvZGU="))
        );
        assert_eq!(
            ev(
                "States.Base64Decode($.s)",
                json!({"s": "RGF0YSB0byBlbmNvZGU="})
            ),
            Ok(json!("Data to encode"))
        );
        assert!(failure("States.Base64Decode('***')", json!({})).contains("decode"));
        let h = |a: &str| ev(&format!("States.Hash('input data', '{a}')"), json!({})).unwrap();
        assert_eq!(h("MD5"), json!("812f45842bc6d66ee14572ce20db8e86"));
        assert_eq!(
            h("SHA-1"),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
        );
        assert_eq!(
            h("SHA-256"),
            json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")
        );
        assert_eq!(
            ev("States.Hash('', 'SHA-384')", json!({}))
                .unwrap()
                .as_str()
                .map(str::len),
            Some(96)
        );
        assert_eq!(
            ev("States.Hash('', 'SHA-512')", json!({}))
                .unwrap()
                .as_str()
                .map(str::len),
            Some(128)
        );
        assert!(failure("States.Hash('x', 'SHA-3')", json!({})).contains("not supported"));
        let long = "x".repeat(10_001);
        assert!(failure("States.Base64Encode($.s)", json!({"s": long})).contains("10000"));
    }

    #[test]
    fn merge_math_split_uuid() {
        let input = json!({"a": {"a1": 1, "n": {"x": 1}}, "b": {"n": {"y": 2}, "b1": 2}});
        assert_eq!(
            ev("States.JsonMerge($.a, $.b, false)", input.clone()),
            Ok(json!({"a1": 1, "n": {"y": 2}, "b1": 2}))
        );
        assert!(failure("States.JsonMerge($.a, $.b, true)", input).contains("shallow"));
        assert_eq!(
            ev("States.MathAdd($.v, -1)", json!({"v": 111})),
            Ok(json!(110))
        );
        assert!(failure("States.MathAdd(1.5, 1)", json!({})).contains("integer"));
        assert!(failure("States.MathAdd(2147483648, 1)", json!({})).contains("32-bit"));
        for _ in 0..50 {
            let n = ev("States.MathRandom(1, 3)", json!({}))
                .unwrap()
                .as_i64()
                .unwrap();
            assert!((1..3).contains(&n));
        }
        assert_eq!(
            ev("States.MathRandom(0, 1000, 7)", json!({})),
            ev("States.MathRandom(0, 1000, 7)", json!({}))
        );
        assert_eq!(
            ev(
                "States.StringSplit($.s, ',+')",
                json!({"s": "This,is+a,test+string"})
            ),
            Ok(json!(["This", "is", "a", "test", "string"]))
        );
        assert_eq!(
            ev("States.StringSplit('1,2,,3', ',')", json!({})),
            Ok(json!(["1", "2", "3"]))
        );
        let u = ev("States.UUID()", json!({})).unwrap();
        assert_eq!(
            uuid::Uuid::parse_str(u.as_str().unwrap()).map(|u| u.get_version_num()),
            Ok(4)
        );
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "States.Nope()",
            "States.UUID(1)",
            "States.Format()",
            "States.ArrayLength($.a, $.b)",
            "States.Format('x'",
            "States.Format('x') extra",
            "States.Array(foo)",
            "States.Array('unterminated)",
        ] {
            assert!(Intrinsic::parse(bad).is_err(), "{bad}");
        }
        assert!(Intrinsic::parse("States.ArrayGetItem($.a[0,1], 0)").is_ok());
    }
}
