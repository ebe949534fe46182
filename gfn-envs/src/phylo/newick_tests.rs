//! Newick parsing, writing, and the tree operations built on it.

use super::*;

fn parse(text: &str) -> Tree {
    parse_newick("test", text).unwrap()
}

fn error(text: &str) -> String {
    match parse_newick("test", text) {
        Err(e @ Error::Parse { .. }) => e.to_string(),
        other => panic!("{text:?}: expected a parse error, got {other:?}"),
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn parses_labels_lengths_comments_and_quotes() {
    let t = parse(" [&U] ('Homo sapiens':0.1,(b:2e-3 , c_d)0.95:1.5,'it''s':0 )root:0.0;\n");
    assert_eq!(t.taxa(), names(&["Homo sapiens", "b", "c_d", "it's"]));
    let root = t.node(t.root());
    assert_eq!(root.children.len(), 3);
    assert_eq!(root.label.as_deref(), Some("root"));
    let inner = t.node(root.children[1]);
    assert_eq!((inner.label.as_deref(), inner.length), (Some("0.95"), Some(1.5)));
    assert_eq!(t.node(inner.children[0]).length, Some(0.002));
    assert_eq!(t.node(inner.children[1]).length, None);
    assert_eq!(write_newick(&t), "('Homo sapiens':0.1,(b:0.002,c_d)0.95:1.5,'it''s':0)root:0;");
}

#[test]
fn write_then_parse_is_exact() {
    for text in [
        "((a:0.1,b:0.30000000000000004):1e-10,c:7,(d,e)x);",
        "(((((t0:0.1,t1:0.1):0.1,t2:0.1):0.1,t3:0.1):0.1,t4:0.1):0.05,t5:0.05);",
        "('a b',('c,d':1,'e(f)':2):3,g);",
    ] {
        let t = parse(text);
        let written = write_newick(&t);
        assert_eq!(parse(&written), t, "{text} → {written}");
        assert_eq!(write_newick(&parse(&written)), written);
    }
}

#[test]
fn bad_syntax_is_reported_with_its_position() {
    let cases: [(&str, &[&str]); 10] = [
        ("(a,b,c)", &["line 1, column 8", "missing ';'"]),
        ("((a,b,c);", &["line 1, column 1", "never closed"]),
        ("(a,b),c);", &["column 6", "unbalanced ','"]),
        ("(a,b));", &["column 6", "unbalanced ')'"]),
        ("(a,,b);", &["column 4", "expected a leaf name"]),
        ("(a:x,b,c);", &["column 4", "branch length"]),
        ("(a:-1,b,c);", &["column 4", "-1", "non-negative"]),
        ("(a,b,a);", &["column 6", "duplicate leaf 'a'", "column 2"]),
        ("(a,\n'b,c);", &["line 2, column 1", "unterminated quoted label"]),
        ("(a,b,c); (d,e,f);", &["column 10", "text after the tree"]),
    ];
    for (text, needles) in cases {
        let m = error(text);
        for n in needles {
            assert!(m.contains(n), "{text:?}: error {m:?} does not mention {n:?}");
        }
    }
    assert!(error("(a[,b,c);").contains("unterminated comment"));
    assert!(error("(a b,c);").contains("column 4: expected ',', ')' or ';', found 'b'"));
}

#[test]
fn several_trees_per_input() {
    let trees = parse_newick_trees("t", "(a,b,c);\n[x] ((a,b),c);\n").unwrap();
    assert_eq!(trees.len(), 2);
    assert!(parse_newick_trees("t", " \n").is_err());
}

#[test]
fn taxa_matching_names_the_problem() {
    let t = parse("((b:1,a:2):1,(c:1,d:1):1);");
    let aligned = t.with_taxa(&names(&["a", "b", "c", "d"])).unwrap();
    assert_eq!(aligned.taxa(), names(&["a", "b", "c", "d"]));
    let first_leaf = aligned.node(aligned.node(aligned.node(aligned.root()).children[0]).children[0]);
    assert_eq!(first_leaf.taxon, Some(1)); // leaf 'b' is taxon 1 of the alignment
    let unknown = t.with_taxa(&names(&["a", "b", "c", "e"])).unwrap_err().to_string();
    assert!(unknown.contains("'d'") && unknown.contains("not a taxon"), "{unknown}");
    let missing = t.with_taxa(&names(&["a", "b", "c", "d", "e", "f"])).unwrap_err().to_string();
    assert!(missing.contains("missing from the tree: e, f"), "{missing}");
    let dup = t.with_taxa(&names(&["a", "b", "c", "c"])).unwrap_err().to_string();
    assert!(dup.contains("duplicate"), "{dup}");
}

#[test]
fn binary_check_and_unrooted_edges() {
    let rooted = parse("((a:1,b:2):0.25,(c:3,d:4):0.5);");
    rooted.check_binary().unwrap();
    let mut lengths: Vec<f64> = rooted.unrooted_edge_lengths().unwrap().into_iter().map(|e| e.1).collect();
    lengths.sort_by(f64::total_cmp);
    assert_eq!(lengths, [0.75, 1.0, 2.0, 3.0, 4.0]); // 2n-3 edges, root edges fused
    let unrooted = parse("(a:1,b:2,(c:3,d:4):0.75);");
    unrooted.check_binary().unwrap();
    assert_eq!(unrooted.unrooted_edge_lengths().unwrap().len(), 5);
    let polytomy = parse("(a,b,(c,d,e));").check_binary().unwrap_err().to_string();
    assert!(polytomy.contains("3 children") && polytomy.contains("c, d, e"), "{polytomy}");
    assert!(parse("((a,b));").check_binary().is_err());
    let no_length = parse("(a:1,b:2,c);").unrooted_edge_lengths().unwrap_err().to_string();
    assert!(no_length.contains("edge above c"), "{no_length}");
}
