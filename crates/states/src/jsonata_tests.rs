use super::*;
use serde_json::json;

/// The JSONata documentation's sample document (the "Address" example).
fn address() -> Value {
    json!({
        "FirstName": "Fred", "Surname": "Smith", "Age": 28,
        "Address": {"Street": "Hursley Park", "City": "Winchester", "Postcode": "SO21 2JN"},
        "Phone": [
            {"type": "home", "number": "0203 544 1234"},
            {"type": "office", "number": "01962 001234"},
            {"type": "office", "number": "01962 001235"},
            {"type": "mobile", "number": "077 7700 1234"}
        ],
        "Email": [
            {"type": "work", "address": ["fred.smith@my-work.com", "fsmith@my-work.com"]},
            {"type": "home", "address": ["freddy@my-social.com", "frederic.smith@very-serious.com"]}
        ],
        "Other": {"Over 18 ?": true, "Misc": null, "Alternative.Address": {"Street": "Brick Lane", "City": "London", "Postcode": "E1 6RF"}}
    })
}

/// The JSONata documentation's order document (the "Account" example).
fn account() -> Value {
    json!({"Account": {"Account Name": "Firefly", "Order": [
        {"OrderID": "order103", "Product": [
            {"Product Name": "Bowler Hat", "ProductID": 858383, "SKU": "0406654608", "Price": 34.45, "Quantity": 2},
            {"Product Name": "Trilby hat", "ProductID": 858236, "SKU": "0406634348", "Price": 21.67, "Quantity": 1}]},
        {"OrderID": "order104", "Product": [
            {"Product Name": "Bowler Hat", "ProductID": 858383, "SKU": "040657863", "Price": 34.45, "Quantity": 4},
            {"Product Name": "Cloak", "ProductID": 345664, "SKU": "0406654603", "Price": 107.99, "Quantity": 1}]}
    ]}})
}

/// Evaluates `expr` with `$states.input` = `input`.
fn ev(expr: &str, input: Value) -> Option<Value> {
    let scope = Scope::new(&input, &json!({}), &Map::new());
    Expression::parse(expr).unwrap().eval(&scope).unwrap()
}

fn ok(expr: &str, input: Value) -> Value {
    ev(expr, input).unwrap_or_else(|| panic!("{expr} gave undefined"))
}

fn err(expr: &str) -> String {
    let scope = Scope::new(&json!({}), &json!({}), &Map::new());
    Expression::parse(expr).unwrap().eval(&scope).unwrap_err()
}

#[test]
fn path_operators_and_predicates() {
    let a = address();
    assert_eq!(ok("$states.input.Surname", a.clone()), json!("Smith"));
    assert_eq!(
        ok("$states.input.Address.City", a.clone()),
        json!("Winchester")
    );
    assert_eq!(
        ok("$states.input.Phone[0].number", a.clone()),
        json!("0203 544 1234")
    );
    assert_eq!(
        ok("$states.input.Phone[-1].number", a.clone()),
        json!("077 7700 1234")
    );
    assert_eq!(
        ok("$states.input.Phone[type='office'].number", a.clone()),
        json!(["01962 001234", "01962 001235"])
    );
    assert_eq!(
        ok("$states.input.Phone[[0..1]].type", a.clone()),
        json!(["home", "office"])
    );
    assert_eq!(
        ok("$states.input.Other.`Over 18 ?`", a.clone()),
        json!(true)
    );
    assert_eq!(ok("$states.input.Other.Misc", a.clone()), json!(null));
    assert_eq!(ev("$states.input.Nothing", a.clone()), None);
    assert_eq!(
        ok("$states.input.Email.address[0]", a.clone()),
        json!(["fred.smith@my-work.com", "freddy@my-social.com"])
    );
    assert_eq!(ok("$count($states.input.**.Postcode)", a.clone()), json!(2));
    assert_eq!(
        ok("$states.input.Address.*", a.clone()),
        json!(["Hursley Park", "Winchester", "SO21 2JN"])
    );
    // Sorting, grouping and the conditional operator.
    let acc = account();
    assert_eq!(
        ok(
            "$states.input.Account.Order.Product^(>Price).`Product Name`",
            acc.clone()
        ),
        json!(["Cloak", "Bowler Hat", "Bowler Hat", "Trilby hat"])
    );
    assert_eq!(
        ok(
            "$states.input.Account.Order.Product{`Product Name`: $sum(Quantity)}",
            acc.clone()
        ),
        json!({"Bowler Hat": 6, "Trilby hat": 1, "Cloak": 1})
    );
    assert_eq!(
        ok("$states.input.Age >= 18 ? 'adult' : 'minor'", a.clone()),
        json!("adult")
    );
    assert_eq!(
        ok("'Hello' & ' ' & $states.input.FirstName", a),
        json!("Hello Fred")
    );
}

#[test]
fn aggregation_and_numbers() {
    let acc = account();
    assert_eq!(
        ok(
            "$sum($states.input.Account.Order.Product.(Price * Quantity))",
            acc.clone()
        ),
        json!(336.36)
    );
    assert_eq!(
        ok("$count($states.input.Account.Order.Product)", acc.clone()),
        json!(4)
    );
    assert_eq!(
        ok(
            "$max($states.input.Account.Order.Product.Price)",
            acc.clone()
        ),
        json!(107.99)
    );
    assert_eq!(
        ok(
            "$min($states.input.Account.Order.Product.Price)",
            acc.clone()
        ),
        json!(21.67)
    );
    assert_eq!(ok("$average([1, 2, 3, 4])", json!({})), json!(2.5));
    assert_eq!(ok("$round(2.5)", json!({})), json!(2));
    assert_eq!(ok("$round(2.71828, 2)", json!({})), json!(2.72));
    assert_eq!(
        ok("$floor(5.7) + $ceil(5.2) + $abs(-3)", json!({})),
        json!(14)
    );
    assert_eq!(ok("$power(2, 10)", json!({})), json!(1024));
    assert_eq!(ok("$sqrt(16)", json!({})), json!(4));
    assert_eq!(ok("$number('42') + 1", json!({})), json!(43));
    assert_eq!(
        ok("$formatNumber(1234.5678, '#,##0.00')", json!({})),
        json!("1,234.57")
    );
    assert_eq!(ok("$formatBase(255, 16)", json!({})), json!("ff"));
    assert_eq!(ok("7 % 3", json!({})), json!(1));
    assert_eq!(ok("[1..5]", json!({})), json!([1, 2, 3, 4, 5]));
    // Integral results are written as integers, others as doubles.
    assert_eq!(ok("10 / 4", json!({})).to_string(), "2.5");
    assert_eq!(ok("10 / 5", json!({})).to_string(), "2");
}

#[test]
fn strings() {
    let s = json!({});
    assert_eq!(ok("$uppercase('Hello')", s.clone()), json!("HELLO"));
    assert_eq!(ok("$lowercase('Hello')", s.clone()), json!("hello"));
    assert_eq!(ok("$length('Hello World')", s.clone()), json!(11));
    assert_eq!(
        ok("$substring('Hello World', 3, 5)", s.clone()),
        json!("lo Wo")
    );
    assert_eq!(
        ok("$substringBefore('Hello World', ' ')", s.clone()),
        json!("Hello")
    );
    assert_eq!(
        ok("$substringAfter('Hello World', ' ')", s.clone()),
        json!("World")
    );
    assert_eq!(ok("$trim('  a   b  ')", s.clone()), json!("a b"));
    assert_eq!(ok("$pad('5', -3, '0')", s.clone()), json!("005"));
    assert_eq!(
        ok("$contains('abracadabra', 'bra')", s.clone()),
        json!(true)
    );
    assert_eq!(
        ok("$split('a,b,c', ',')", s.clone()),
        json!(["a", "b", "c"])
    );
    assert_eq!(ok("$join(['a', 'b', 'c'], '-')", s.clone()), json!("a-b-c"));
    assert_eq!(
        ok("$replace('John Smith', 'John', 'Mr')", s.clone()),
        json!("Mr Smith")
    );
    assert_eq!(
        ok("$match('ababbabbcc', /a(b+)/).match", s.clone()),
        json!(["ab", "abb", "abb"])
    );
    assert_eq!(ok("$string({'a': 1})", s.clone()), json!("{\"a\":1}"));
    assert_eq!(
        ok("$base64encode('myuser:mypass')", s.clone()),
        json!("bXl1c2VyOm15cGFzcw==")
    );
    assert_eq!(
        ok("$base64decode('bXl1c2VyOm15cGFzcw==')", s.clone()),
        json!("myuser:mypass")
    );
    assert_eq!(
        ok("$encodeUrlComponent('?x=test')", s.clone()),
        json!("%3Fx%3Dtest")
    );
}

#[test]
fn higher_order_functions_and_constructors() {
    let s = json!({});
    assert_eq!(
        ok("$map([1, 2, 3], function($v) { $v * 2 })", s.clone()),
        json!([2, 4, 6])
    );
    assert_eq!(
        ok(
            "$filter([1, 2, 3, 4], function($v) { $v % 2 = 0 })",
            s.clone()
        ),
        json!([2, 4])
    );
    assert_eq!(
        ok(
            "$reduce([1, 2, 3, 4], function($a, $b) { $a + $b })",
            s.clone()
        ),
        json!(10)
    );
    assert_eq!(ok("$sort([3, 1, 2])", s.clone()), json!([1, 2, 3]));
    assert_eq!(ok("$reverse([1, 2, 3])", s.clone()), json!([3, 2, 1]));
    assert_eq!(ok("$distinct([1, 1, 2])", s.clone()), json!([1, 2]));
    assert_eq!(ok("$append([1], [2, 3])", s.clone()), json!([1, 2, 3]));
    assert_eq!(
        ok("$zip([1, 2], [3, 4])", s.clone()),
        json!([[1, 3], [2, 4]])
    );
    assert_eq!(ok("$keys({'a': 1, 'b': 2})", s.clone()), json!(["a", "b"]));
    assert_eq!(
        ok("$merge([{'a': 1}, {'b': 2}])", s.clone()),
        json!({"a": 1, "b": 2})
    );
    assert_eq!(ok("$lookup({'a': 1}, 'a')", s.clone()), json!(1));
    assert_eq!(
        ok("$spread({'a': 1, 'b': 2})", s.clone()),
        json!([{"a": 1}, {"b": 2}])
    );
    assert_eq!(
        ok(
            "$each({'a': 1}, function($v, $k) { $k & '=' & $v })",
            s.clone()
        ),
        json!("a=1")
    );
    assert_eq!(ok("$exists($states.input.x)", json!({"x": 0})), json!(true));
    assert_eq!(ok("$type([])", s.clone()), json!("array"));
    assert_eq!(ok("$boolean('') or $not(false)", s.clone()), json!(true));
    assert_eq!(
        ok("{'total': 1 + 2, 'list': [1, 'two', null]}", s.clone()),
        json!({"total": 3, "list": [1, "two", null]})
    );
    assert_eq!(ok("($x := 5; $y := $x * 2; $y)", s.clone()), json!(10));
    assert_eq!(
        ok(
            "$states.input ~> $map(function($v) { $v + 1 })",
            json!([1, 2])
        ),
        json!([2, 3])
    );
    // Key order of constructed objects is kept.
    let o = ok("{'z': 1, 'a': 2}", s);
    assert_eq!(
        o.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["z", "a"]
    );
}

#[test]
fn dates() {
    assert_eq!(
        ok("$toMillis('2024-01-01T00:00:00.000Z')", json!({})),
        json!(1_704_067_200_000i64)
    );
    assert_eq!(
        ok("$fromMillis(1704067200000)", json!({})),
        json!("2024-01-01T00:00:00.000Z")
    );
    assert!(ok("$now()", json!({})).as_str().unwrap().ends_with('Z'));
}

#[test]
fn step_functions_functions() {
    let s = json!({});
    assert_eq!(
        ok("$partition([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)", s.clone()),
        json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    );
    assert_eq!(
        ok("$partition([1, 2, 3, 4, 5], 2)", s.clone()),
        json!([[1, 2], [3, 4], [5]])
    );
    assert!(err("$partition([1, 2], 0)").contains("positive integer"));
    assert_eq!(
        ok("$range(0, 10, 2)", s.clone()),
        json!([0, 2, 4, 6, 8, 10])
    );
    assert_eq!(ok("$range(5, 1, -2)", s.clone()), json!([5, 3, 1]));
    assert_eq!(ok("$range(1, 0, 1)", s.clone()), json!([]));
    assert!(err("$range(0, 10, 0)").contains("must not be 0"));
    assert!(err("$range(0, 5000, 1)").contains("1000"));
    assert_eq!(
        ok("$hash('abc', 'SHA-256')", s.clone()),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        ok("$hash('', 'MD5')", s.clone()),
        json!("d41d8cd98f00b204e9800998ecf8427e")
    );
    assert_eq!(
        ok("$hash('abc', 'SHA-1')", s.clone()),
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert!(err("$hash('x', 'SHA-3')").contains("not supported"));
    let r = ok("$random()", s.clone()).as_f64().unwrap();
    assert!((0.0..1.0).contains(&r));
    assert_eq!(
        ok("$random(7)", s.clone()),
        ok("$random(7)", s.clone()),
        "a seed repeats"
    );
    assert_ne!(ok("$random(7)", s.clone()), ok("$random(8)", s.clone()));
    let u = ok("$uuid()", s.clone());
    assert_eq!(
        uuid::Uuid::parse_str(u.as_str().unwrap())
            .unwrap()
            .get_version_num(),
        4
    );
    assert_ne!(u, ok("$uuid()", s.clone()));
    assert_eq!(
        ok("$parse('{\"a\": [1, true]}')", s.clone()),
        json!({"a": [1, true]})
    );
    assert!(err("$parse('{')").contains("could not parse"));
    assert!(err("$eval('1 + 1')").contains("not available"));
}

#[test]
fn states_and_variables() {
    let mut vars = Map::new();
    vars.insert("customerName".into(), json!("María"));
    vars.insert("count".into(), json!(42));
    let scope = Scope::new(
        &json!({"title": "Doctor"}),
        &json!({"Execution": {"Name": "e1"}}),
        &vars,
    )
    .with("result", &json!({"Payload": 7}));
    let t = JTemplate::compile(&json!({
        "static": "Hello",
        "title": "{% $states.input.title %}",
        "name": "{% $customerName %}",
        "not-evaluated": "$customerName",
        "n": "{% $count + $states.result.Payload %}",
        "exec": "{% $states.context.Execution.Name %}",
        "list": ["{% 1 %}", "x"]
    }))
    .unwrap();
    assert_eq!(
        t.render(&scope, "Arguments").unwrap(),
        json!({"static": "Hello", "title": "Doctor", "name": "María", "not-evaluated": "$customerName", "n": 49, "exec": "e1", "list": [1, "x"]})
    );
    // Undefined fails wherever it is, naming the field down to the member.
    let t =
        JTemplate::compile(&json!({"a": {"b": "{% $states.input.missing %}"}, "c": 1})).unwrap();
    let e = t.render(&scope, "Output").unwrap_err();
    assert_eq!(e.error, "States.QueryEvaluationError");
    assert_eq!(
        e.cause,
        "The JSONata expression '$states.input.missing' specified for the field 'Output/a/b' returned nothing (undefined)."
    );
    let t = JTemplate::compile(&json!(["x", "{% $nothing %}"])).unwrap();
    assert!(
        t.render(&scope, "Assign")
            .unwrap_err()
            .cause
            .contains("'Assign[1]'")
    );
    // An evaluation error names the expression and the field, then JSONata's coded message.
    let t = JTemplate::compile(&json!({"x": "{% $states.input.title + 1 %}"})).unwrap();
    let e = t.render(&scope, "Arguments").unwrap_err();
    assert_eq!(e.error, "States.QueryEvaluationError");
    assert!(
        e.cause.starts_with("The JSONata expression '$states.input.title + 1' specified for the field 'Arguments/x' threw an error during evaluation. T2001: "),
        "{}",
        e.cause
    );
    // A message without a code follows a colon.
    let t = JTemplate::compile(&json!("{% $hash('x', 'nope') %}")).unwrap();
    let e = t.render(&scope, "Output").unwrap_err();
    assert!(
        e.cause
            .contains("threw an error during evaluation: The hash algorithm 'nope'"),
        "{}",
        e.cause
    );
    // A syntax error is found at compile time, with its location.
    let e = JTemplate::compile(&json!({"a": {"b": "{% $states.input.( %}"}})).unwrap_err();
    assert_eq!(e.location, "/a/b");
    // Strings that are not exactly {% ... %} are literals.
    let t = JTemplate::compile(&json!(["x {% 1 %}", "{% 1 %} x"])).unwrap();
    assert!(t.literal().is_some());
}

#[test]
fn runaway_expressions_stop() {
    let e = err("($f := function($x) { $f($x + 1) }; $f(0))");
    assert!(!e.is_empty());
}

#[test]
fn deeply_nested_expressions_do_not_overflow() {
    for depth in [1_000, 100_000] {
        let text = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
        if let Ok(e) = Expression::parse(&text) {
            let scope = Scope::new(&json!({}), &json!({}), &Map::new());
            let _ = e.eval(&scope);
        }
        let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let _ = Expression::parse(&text);
    }
}
