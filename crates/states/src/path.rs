//! JSONPath as Step Functions evaluates it (the Jayway dialect): paths (`$.a.b`, `$['a']`,
//! `$.a[0]`, `$.a[*]`, `$.a[1:3]`, `$.a[0,2]`, `$..a`, `$.a[?(@.b > 1)]`), reference paths (only
//! names and indexes, one node) and context paths (`$$.Execution.Id`).
//!
//! A *definite* path (names and indexes only) selects one node and fails when it is absent; an
//! indefinite one (wildcard, slice, list, deep scan, filter) always yields an array of matches.

use serde_json::Value;
use std::fmt;

/// A parsed JSONPath.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// `$$`: the path reads the context object instead of the state's data.
    pub context: bool,
    segments: Vec<Segment>,
    text: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Field(String),
    Index(i64),
    Fields(Vec<String>),
    Indexes(Vec<i64>),
    Wildcard,
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Deep(Box<Segment>),
    Filter(Filter),
}

#[derive(Clone, Debug, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Compare(Operand, CmpOp, Operand),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    /// `@...`: relative to the element being filtered.
    Current(Vec<Segment>),
    /// `$...`: relative to the document root.
    Root(Vec<Segment>),
    Literal(Value),
}

/// The member of the context object under which the interpreter passes the workflow variables
/// to JSONPath evaluation (`$name` paths read it); no path text can name it.
pub(crate) const VARIABLES_KEY: &str = "\u{0}variables";

/// `$name` + the rest of the path, when `text` reads a workflow variable.
fn variable_prefix(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix('$')?;
    let first = rest.chars().next()?;
    if !(first.is_alphabetic() || first == '_') {
        return None;
    }
    let end = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(rest.len(), |(i, _)| i);
    Some((&rest[..end], &rest[end..]))
}

/// Why a path text is not a valid path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathSyntaxError(pub String);

impl fmt::Display for PathSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PathSyntaxError {}

/// A reference path could not be written: a node on the way is not an object (or not an array
/// long enough for an index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathWriteError;

impl fmt::Display for PathWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the path cannot be applied to the value")
    }
}

impl std::error::Error for PathWriteError {}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Path {
    /// Parses `text` as a path (`$...`, `$$...`, or `$name...` for the workflow variable
    /// `name`).
    pub fn parse(text: &str) -> Result<Path, PathSyntaxError> {
        if let Some((name, rest)) = variable_prefix(text) {
            // `$name.a.b` reads the variables, which the interpreter keeps in the context object
            // under a member no path text can name.
            let inner = Path::parse(&format!("${rest}"))?;
            let mut segments = vec![
                Segment::Field(VARIABLES_KEY.to_string()),
                Segment::Field(name.to_string()),
            ];
            segments.extend(inner.segments);
            return Ok(Path {
                context: true,
                segments,
                text: text.to_string(),
            });
        }
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            text,
        };
        let (context, segments) = p.path_from_root()?;
        if p.i != p.s.len() {
            return Err(p.err("unexpected characters"));
        }
        Ok(Path {
            context,
            segments,
            text: text.to_string(),
        })
    }

    /// Parses `text` as a reference path: a path that names exactly one node, with only names and
    /// non-negative indexes (what `ResultPath` accepts).
    pub fn parse_reference(text: &str) -> Result<Path, PathSyntaxError> {
        let path = Path::parse(text)?;
        if path.context {
            return Err(PathSyntaxError(format!(
                "'{text}' is not a reference path: it reads the context object"
            )));
        }
        let simple = path.segments.iter().all(|s| match s {
            Segment::Field(_) => true,
            Segment::Index(i) => *i >= 0,
            _ => false,
        });
        if !simple {
            return Err(PathSyntaxError(format!(
                "'{text}' is not a reference path: only names and indexes are allowed"
            )));
        }
        Ok(path)
    }

    /// The text the path was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the path selects at most one node (names and indexes only).
    pub fn is_definite(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)))
    }

    /// Whether the path is only `$` (or `$$`).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The workflow variable the path reads (`$name...`), if it reads one.
    pub fn variable(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Field(k), Segment::Field(name), ..] if self.context && k == VARIABLES_KEY => {
                Some(name)
            }
            _ => None,
        }
    }

    /// Evaluates the path against `root`. A definite path gives its node or `None` when absent; an
    /// indefinite one gives the array of its matches (possibly empty).
    pub fn select(&self, root: &Value) -> Option<Value> {
        if self.context && self.segments.is_empty() {
            // `$$` alone: the context object without the variables riding in it.
            let mut whole = root.clone();
            if let Some(m) = whole.as_object_mut() {
                m.shift_remove(VARIABLES_KEY);
            }
            return Some(whole);
        }
        if self.is_definite() {
            let mut cur = root;
            for seg in &self.segments {
                cur = match (seg, cur) {
                    (Segment::Field(name), Value::Object(map)) => map.get(name)?,
                    (Segment::Index(i), Value::Array(items)) => {
                        items.get(resolve_index(*i, items.len())?)?
                    }
                    _ => return None,
                };
            }
            return Some(cur.clone());
        }
        let mut nodes: Vec<&Value> = vec![root];
        for seg in &self.segments {
            let mut next = Vec::new();
            for n in nodes {
                apply(seg, n, root, &mut next);
            }
            nodes = next;
        }
        Some(Value::Array(nodes.into_iter().cloned().collect()))
    }

    /// Writes `value` at this reference path inside `target`, creating the objects on the way
    /// (`ResultPath`). Fails when an existing node on the way is not an object (or, for an
    /// index, not an array long enough).
    /// On failure `target` is left as it was.
    pub fn write(&self, target: &mut Value, value: Value) -> Result<(), PathWriteError> {
        if !self.writable(target) {
            return Err(PathWriteError);
        }
        let mut cur = target;
        for seg in &self.segments {
            cur = match seg {
                Segment::Field(name) => match cur {
                    Value::Object(map) => map.entry(name.clone()).or_insert(Value::Null),
                    _ => return Err(PathWriteError),
                },
                Segment::Index(i) => match cur {
                    Value::Array(items) => {
                        let idx = resolve_index(*i, items.len()).ok_or(PathWriteError)?;
                        items.get_mut(idx).ok_or(PathWriteError)?
                    }
                    _ => return Err(PathWriteError),
                },
                _ => return Err(PathWriteError),
            };
            // A field that was created above (or held null) becomes an object if more follows.
            if cur.is_null() {
                *cur = Value::Object(Default::default());
            }
        }
        *cur = value;
        Ok(())
    }

    /// Whether [`Path::write`] would succeed on `target`.
    fn writable(&self, target: &Value) -> bool {
        let mut cur = Some(target);
        for seg in &self.segments {
            cur = match (seg, cur) {
                // A missing (or null) node becomes an object: names may follow, not indexes.
                (Segment::Field(_), None | Some(Value::Null)) => None,
                (Segment::Field(name), Some(Value::Object(m))) => m.get(name),
                (Segment::Index(i), Some(Value::Array(a))) => {
                    match resolve_index(*i, a.len()).and_then(|x| a.get(x)) {
                        Some(v) => Some(v),
                        None => return false,
                    }
                }
                _ => return false,
            };
        }
        true
    }

    /// The `$['a']['b']` form Jayway uses in its "No results for path" messages.
    pub fn bracket_form(&self) -> String {
        let mut out = String::from(if self.context { "$$" } else { "$" });
        for seg in &self.segments {
            match seg {
                Segment::Field(n) => out.push_str(&format!("['{n}']")),
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                _ => return self.text.clone(),
            }
        }
        out
    }
}

fn resolve_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let idx = if i < 0 { len + i } else { i };
    if idx < 0 || idx >= len {
        None
    } else {
        usize::try_from(idx).ok()
    }
}

fn children(v: &Value) -> Vec<&Value> {
    match v {
        Value::Object(m) => m.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => Vec::new(),
    }
}

fn apply<'a>(seg: &Segment, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match seg {
        Segment::Field(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(name)) {
                out.push(v);
            }
        }
        Segment::Fields(names) => {
            if let Some(m) = node.as_object() {
                out.extend(names.iter().filter_map(|n| m.get(n)));
            }
        }
        Segment::Index(i) => {
            if let Some(a) = node.as_array()
                && let Some(v) = resolve_index(*i, a.len()).and_then(|x| a.get(x))
            {
                out.push(v);
            }
        }
        Segment::Indexes(list) => {
            if let Some(a) = node.as_array() {
                out.extend(
                    list.iter()
                        .filter_map(|i| resolve_index(*i, a.len()).and_then(|x| a.get(x))),
                );
            }
        }
        Segment::Wildcard => out.extend(children(node)),
        Segment::Slice(start, end, step) => {
            if let Some(a) = node.as_array() {
                let len = a.len() as i64;
                let step = step.unwrap_or(1);
                if step <= 0 {
                    return;
                }
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let (s, e) = (norm(start.unwrap_or(0)), norm(end.unwrap_or(len)));
                let mut k = s;
                while k < e {
                    if let Some(v) = a.get(k as usize) {
                        out.push(v);
                    }
                    k += step;
                }
            }
        }
        Segment::Deep(inner) => {
            // Jayway's deep scan: the node itself and every descendant, in document order.
            let mut stack = vec![node];
            while let Some(n) = stack.pop() {
                apply(inner, n, root, out);
                let mut kids = children(n);
                kids.reverse();
                stack.extend(kids);
            }
        }
        Segment::Filter(f) => {
            for c in children(node) {
                if filter_holds(f, c, root) {
                    out.push(c);
                }
            }
        }
    }
}

fn operand_value(op: &Operand, current: &Value, root: &Value) -> Option<Value> {
    let (base, segs) = match op {
        Operand::Literal(v) => return Some(v.clone()),
        Operand::Current(s) => (current, s),
        Operand::Root(s) => (root, s),
    };
    Path {
        context: false,
        segments: segs.clone(),
        text: String::new(),
    }
    .select(base)
}

fn filter_holds(f: &Filter, cur: &Value, root: &Value) -> bool {
    match f {
        Filter::Or(a, b) => filter_holds(a, cur, root) || filter_holds(b, cur, root),
        Filter::And(a, b) => filter_holds(a, cur, root) && filter_holds(b, cur, root),
        Filter::Not(a) => !filter_holds(a, cur, root),
        Filter::Exists(op) => operand_value(op, cur, root).is_some(),
        Filter::Compare(l, op, r) => {
            let (Some(l), Some(r)) = (operand_value(l, cur, root), operand_value(r, cur, root))
            else {
                return false;
            };
            match op {
                CmpOp::Eq => json_eq(&l, &r),
                CmpOp::Ne => !json_eq(&l, &r),
                _ => {
                    let ord = match (&l, &r) {
                        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                        _ => None,
                    };
                    match ord {
                        Some(o) => match op {
                            CmpOp::Lt => o.is_lt(),
                            CmpOp::Le => o.is_le(),
                            CmpOp::Gt => o.is_gt(),
                            _ => o.is_ge(),
                        },
                        None => false,
                    }
                }
            }
        }
    }
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> PathSyntaxError {
        PathSyntaxError(format!(
            "invalid JSONPath '{}': {what} at position {}",
            self.text, self.i
        ))
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.i += 1;
        }
    }

    fn path_from_root(&mut self) -> Result<(bool, Vec<Segment>), PathSyntaxError> {
        if !self.eat(b'$') {
            return Err(self.err("a path starts with '$'"));
        }
        let context = self.eat(b'$');
        Ok((context, self.segments(false)?))
    }

    /// Segments until the end (or, inside a filter, until a character that cannot continue a path).
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Segment>, PathSyntaxError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    if self.eat(b'.') {
                        let inner = if self.peek() == Some(b'[') {
                            self.bracket()?
                        } else {
                            self.dot_name(in_filter)?
                        };
                        segs.push(Segment::Deep(Box::new(inner)));
                    } else {
                        segs.push(self.dot_name(in_filter)?);
                    }
                }
                Some(b'[') => segs.push(self.bracket()?),
                None => return Ok(segs),
                Some(_) if in_filter => return Ok(segs),
                Some(_) => return Err(self.err("expected '.' or '['")),
            }
        }
    }

    fn dot_name(&mut self, in_filter: bool) -> Result<Segment, PathSyntaxError> {
        if self.eat(b'*') {
            return Ok(Segment::Wildcard);
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            let stop = c == b'.'
                || c == b'['
                || (in_filter
                    && matches!(c, b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|'));
            if stop {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err("empty name"));
        }
        let name =
            std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid UTF-8"))?;
        if name.contains(['\'', '"', ' ', ']', '(', ')']) {
            return Err(self.err("invalid character in a name"));
        }
        Ok(Segment::Field(name.to_string()))
    }

    fn quoted(&mut self) -> Result<String, PathSyntaxError> {
        let q = self.peek().ok_or_else(|| self.err("expected a quote"))?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    out.push(c);
                    self.i += 1;
                }
                Some(c) if c == q => {
                    self.i += 1;
                    break;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"))
    }

    fn int(&mut self) -> Result<Option<i64>, PathSyntaxError> {
        self.ws();
        let start = self.i;
        self.eat(b'-');
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i == start {
            return Ok(None);
        }
        let t =
            std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid number"))?;
        let v = t.parse().map_err(|_| self.err("invalid index"))?;
        self.ws();
        Ok(Some(v))
    }

    fn bracket(&mut self) -> Result<Segment, PathSyntaxError> {
        self.i += 1; // '['
        self.ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Segment::Wildcard
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                self.ws();
                while self.eat(b',') {
                    self.ws();
                    names.push(self.quoted()?);
                    self.ws();
                }
                if names.len() == 1 {
                    Segment::Field(names.remove(0))
                } else {
                    Segment::Fields(names)
                }
            }
            Some(b'?') => {
                self.i += 1;
                if !self.eat(b'(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let f = self.filter_or()?;
                self.ws();
                if !self.eat(b')') {
                    return Err(self.err("expected ')'"));
                }
                Segment::Filter(f)
            }
            _ => {
                let first = self.int()?;
                if self.eat(b':') {
                    let end = self.int()?;
                    let step = if self.eat(b':') { self.int()? } else { None };
                    Segment::Slice(first, end, step)
                } else {
                    let first = first
                        .ok_or_else(|| self.err("expected an index, a name, '*' or a filter"))?;
                    let mut list = vec![first];
                    while self.eat(b',') {
                        list.push(self.int()?.ok_or_else(|| self.err("expected an index"))?);
                    }
                    if list.len() == 1 {
                        Segment::Index(first)
                    } else {
                        Segment::Indexes(list)
                    }
                }
            }
        };
        self.ws();
        if !self.eat(b']') {
            return Err(self.err("expected ']'"));
        }
        Ok(seg)
    }

    fn filter_or(&mut self) -> Result<Filter, PathSyntaxError> {
        let mut left = self.filter_and()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"||") {
                self.i += 2;
                left = Filter::Or(Box::new(left), Box::new(self.filter_and()?));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, PathSyntaxError> {
        let mut left = self.filter_atom()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"&&") {
                self.i += 2;
                left = Filter::And(Box::new(left), Box::new(self.filter_atom()?));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_atom(&mut self) -> Result<Filter, PathSyntaxError> {
        self.ws();
        if self.eat(b'!') {
            return Ok(Filter::Not(Box::new(self.filter_atom()?)));
        }
        if self.eat(b'(') {
            let f = self.filter_or()?;
            self.ws();
            if !self.eat(b')') {
                return Err(self.err("expected ')'"));
            }
            return Ok(f);
        }
        let left = self.operand()?;
        self.ws();
        let rest = &self.s[self.i..];
        let op = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t.as_bytes()));
        match op {
            Some((t, op)) => {
                self.i += t.len();
                let right = self.operand()?;
                Ok(Filter::Compare(left, op, right))
            }
            None => match left {
                Operand::Literal(_) => Err(self.err("expected a comparison")),
                other => Ok(Filter::Exists(other)),
            },
        }
    }

    fn operand(&mut self) -> Result<Operand, PathSyntaxError> {
        self.ws();
        match self.peek() {
            Some(b'@') => {
                self.i += 1;
                Ok(Operand::Current(self.segments(true)?))
            }
            Some(b'$') => {
                self.i += 1;
                Ok(Operand::Root(self.segments(true)?))
            }
            Some(b'\'' | b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i])
                    .map_err(|_| self.err("invalid literal"))?;
                serde_json::from_str::<Value>(t)
                    .ok()
                    .filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
                    .map(Operand::Literal)
                    .ok_or_else(|| self.err("invalid literal"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(p: &str, v: &Value) -> Option<Value> {
        Path::parse(p).unwrap().select(v)
    }

    #[test]
    fn definite_paths() {
        let v = json!({"a": {"b": [10, 20, {"c": "x"}]}, "detail-type": "t", "sp ace": 1});
        assert_eq!(sel("$", &v), Some(v.clone()));
        assert_eq!(sel("$.a.b[1]", &v), Some(json!(20)));
        assert_eq!(sel("$.a.b[-1].c", &v), Some(json!("x")));
        assert_eq!(sel("$['a']['b'][0]", &v), Some(json!(10)));
        assert_eq!(sel("$.detail-type", &v), Some(json!("t")));
        assert_eq!(sel("$['sp ace']", &v), Some(json!(1)));
        assert_eq!(sel("$.a.x", &v), None);
        assert_eq!(sel("$.a.b[9]", &v), None);
        assert_eq!(sel("$.a.b.c", &v), None);
    }

    #[test]
    fn indefinite_paths() {
        let v = json!({"items": [{"p": 5, "n": "a"}, {"p": 15, "n": "b"}, {"n": "c"}], "o": {"x": 1, "y": 2}});
        assert_eq!(sel("$.items[*].n", &v), Some(json!(["a", "b", "c"])));
        assert_eq!(sel("$.items[0:2].n", &v), Some(json!(["a", "b"])));
        assert_eq!(sel("$.items[-2:].n", &v), Some(json!(["b", "c"])));
        assert_eq!(sel("$.items[0,2].n", &v), Some(json!(["a", "c"])));
        assert_eq!(sel("$.o.*", &v), Some(json!([1, 2])));
        assert_eq!(sel("$..p", &v), Some(json!([5, 15])));
        assert_eq!(sel("$.items[?(@.p > 10)].n", &v), Some(json!(["b"])));
        assert_eq!(sel("$.items[?(@.p)].n", &v), Some(json!(["a", "b"])));
        assert_eq!(
            sel("$.items[?(@.n == 'c' || @.p < 6)].n", &v),
            Some(json!(["a", "c"]))
        );
        assert_eq!(sel("$.missing[*]", &v), Some(json!([])));
    }

    #[test]
    fn syntax_errors() {
        for p in [
            "",
            "a.b",
            "$.",
            "$.a[",
            "$.a[x]",
            "$1a",
            "$a[",
            "$.a['b]",
            "$.a[?(@.b >)]",
        ] {
            assert!(Path::parse(p).is_err(), "{p}");
        }
        assert!(Path::parse_reference("$.a[*]").is_err());
        assert!(Path::parse_reference("$$.Execution").is_err());
        assert!(Path::parse_reference("$.a[0].b").is_ok());
    }

    #[test]
    fn variable_paths() {
        let p = Path::parse("$order.items[0].id").unwrap();
        assert_eq!(p.variable(), Some("order"));
        assert!(p.context);
        let ctx = json!({VARIABLES_KEY: {"order": {"items": [{"id": 7}]}}, "Execution": {}});
        assert_eq!(p.select(&ctx), Some(json!(7)));
        assert_eq!(Path::parse("$x").unwrap().select(&ctx), None);
        // `$$` alone never shows the variables.
        assert_eq!(
            Path::parse("$$").unwrap().select(&ctx),
            Some(json!({"Execution": {}}))
        );
        // A variable is not a place ResultPath can write.
        assert!(Path::parse_reference("$order.x").is_err());
        assert_eq!(Path::parse("$.a").unwrap().variable(), None);
    }

    #[test]
    fn writes_reference_paths() {
        let mut v = json!({"a": 1});
        Path::parse_reference("$.b.c")
            .unwrap()
            .write(&mut v, json!(2))
            .unwrap();
        assert_eq!(v, json!({"a": 1, "b": {"c": 2}}));
        Path::parse_reference("$.a")
            .unwrap()
            .write(&mut v, json!([0, 1]))
            .unwrap();
        Path::parse_reference("$.a[1]")
            .unwrap()
            .write(&mut v, json!("x"))
            .unwrap();
        assert_eq!(v["a"], json!([0, "x"]));
        assert!(
            Path::parse_reference("$.b.c.d")
                .unwrap()
                .write(&mut v, json!(3))
                .is_err()
        );
        assert!(
            Path::parse_reference("$.a[5]")
                .unwrap()
                .write(&mut v, json!(3))
                .is_err()
        );
        let mut w = json!(1);
        Path::parse_reference("$")
            .unwrap()
            .write(&mut w, json!({"r": 1}))
            .unwrap();
        assert_eq!(w, json!({"r": 1}));
        assert_eq!(
            Path::parse("$.a.b[0]").unwrap().bracket_form(),
            "$['a']['b'][0]"
        );
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_write_changes_nothing() {
        let mut v = json!({"a": {"k": 1}});
        assert!(
            Path::parse_reference("$.x[0]")
                .unwrap()
                .write(&mut v, json!(1))
                .is_err()
        );
        assert!(
            Path::parse_reference("$.a.k.z")
                .unwrap()
                .write(&mut v, json!(1))
                .is_err()
        );
        assert_eq!(v, json!({"a": {"k": 1}}));
        Path::parse_reference("$.n.m")
            .unwrap()
            .write(&mut v, json!(2))
            .unwrap();
        assert_eq!(v, json!({"a": {"k": 1}, "n": {"m": 2}}));
    }
}
