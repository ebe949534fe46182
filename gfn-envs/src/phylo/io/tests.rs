//! Reader tests: the three formats agree on the same alignment, and malformed input gives errors
//! with the right line numbers.

use super::*;

const TAXA: [&str; 4] = ["human", "chimp", "gorilla", "orang"];
const SEQS: [&str; 4] = ["ACGTACGTACGTNN", "ACGTACG-ACGTAC", "ACGAACGTAC?TAC", "RCGTYCGTACGTAC"];

fn expected() -> (Vec<String>, Vec<Vec<u8>>) {
    (TAXA.iter().map(|s| s.to_string()).collect(), SEQS.iter().map(|s| s.as_bytes().to_vec()).collect())
}

fn check(raw: &RawAlignment) {
    let (taxa, seqs) = expected();
    assert_eq!(raw.taxa(), taxa);
    assert_eq!(raw.sequences(), seqs);
}

/// The error message of `result`, which must be a parse error.
fn message<T: std::fmt::Debug>(result: Result<T>) -> String {
    match result {
        Err(e @ Error::Parse { .. }) => e.to_string(),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn assert_error(result: Result<RawAlignment>, needles: &[&str]) {
    let m = message(result);
    for n in needles {
        assert!(m.contains(n), "error {m:?} does not mention {n:?}");
    }
}

#[test]
fn fasta_reads_wrapped_lower_case_rna_and_comments() {
    let text = ";comment\n>human description here\nACGTACG\ntacgtNN\n\n>chimp\nACGTACG-ACGTAC\n>gorilla\nACGAACGUAC?TAC\n>orang\nRCGTYCGTACGTAC\n";
    check(&parse_fasta("t.fa", text).unwrap());
}

#[test]
fn fasta_malformed_inputs() {
    assert_error(parse_fasta("t.fa", "ACGT\n>a\nACGT\n"), &["t.fa", "line 1", "before the first '>'"]);
    assert_error(parse_fasta("t.fa", ">a\nACGT\n>b\nACXT\n>c\nACGT\n"), &["line 4", "column 3", "'X'", "taxon 'b'"]);
    assert_error(
        parse_fasta("t.fa", ">a\nACGT\n>b\nACG\n>c\nACGT\n"),
        &["line 3", "'b' has 3 sites", "'a' (line 1) has 4"],
    );
    assert_error(parse_fasta("t.fa", ">a\nACGT\n>b\nACGT\n>a\nACGT\n"), &["line 5", "duplicate taxon 'a'", "line 1"]);
    assert_error(parse_fasta("t.fa", ">a\nACGT\n>b\nACGT\n"), &["2 taxa", "at least 3"]);
    assert_error(parse_fasta("t.fa", ">a\nACGT\n>b\n>c\nACGT\n"), &["line 3", "'b' has no sequence"]);
    assert_error(parse_fasta("t.fa", ">a\nACGT\n> \nACGT\n"), &["line 3", "without a taxon name"]);
}

const PHYLIP_SEQUENTIAL: &str =
    "4 14\nhuman    ACGTACGTAC\nGTNN\nchimp ACGTA CG-AC GTAC\ngorilla\nACGAACGTAC?TAC\norang RCGTYCGTACGTAC\n";
const PHYLIP_INTERLEAVED: &str = " 4  14\nhuman   ACGTACG\nchimp   ACGTACG\ngorilla ACGAACG\norang   RCGTYCG\n\nTACGTNN\n-ACGTAC\nTAC?TAC\nTACGTAC\n";

#[test]
fn phylip_sequential_and_interleaved() {
    check(&parse_phylip("t.phy", PHYLIP_SEQUENTIAL).unwrap());
    check(&parse_phylip("t.phy", PHYLIP_INTERLEAVED).unwrap());
}

#[test]
fn phylip_malformed_inputs() {
    assert_error(parse_phylip("t.phy", "four 14\n"), &["line 1", "'four'"]);
    assert_error(parse_phylip("t.phy", ""), &["empty file"]);
    // Wrong NCHAR (too small): the first row overflows.
    assert_error(
        parse_phylip("t.phy", &PHYLIP_INTERLEAVED.replacen("14", "13", 1)),
        &["line 7", "more than the 13 sites"],
    );
    // Wrong NTAX (too large): truncated.
    assert_error(parse_phylip("t.phy", &PHYLIP_SEQUENTIAL.replacen('4', "5", 1)), &["declares 5 taxa"]);
    // Truncated interleaved block.
    let truncated: String = PHYLIP_INTERLEAVED.lines().take(9).map(|l| format!("{l}\n")).collect();
    assert_error(parse_phylip("t.phy", &truncated), &["'orang' (line 5) has 7 sites", "declares 14"]);
    // Unknown character.
    assert_error(parse_phylip("t.phy", &PHYLIP_SEQUENTIAL.replace("GTNN", "GTNJ")), &["line 3", "'J'", "'human'"]);
    // Duplicate taxon.
    assert_error(
        parse_phylip("t.phy", &PHYLIP_INTERLEAVED.replace("gorilla", "human  ")),
        &["line 4", "duplicate taxon 'human'"],
    );
}

const NEXUS_PLAIN: &str = "#NEXUS\n[written by hand]\nBEGIN TAXA;\n  DIMENSIONS NTAX=4;\n  TAXLABELS human chimp gorilla orang;\nEND;\n\
BEGIN CHARACTERS; [no NTAX: it comes from TAXA]\n  DIMENSIONS NCHAR=14;\n  FORMAT DATATYPE=DNA MISSING=X GAP=* MATCHCHAR=.;\n  MATRIX\n\
    'human'  ACGTACGTAC GTNN [a comment]\n    chimp    ..... ..*....AC\n    gorilla  ACGAACGTACXTAC\n    orang\n RCGTYCGTACGTAC\n  ;\nEND;\n";
const NEXUS_INTERLEAVED: &str = "#nexus\nbegin trees; tree t = (a,b,c);\nend;\nbegin data;\n dimensions ntax=4 nchar=14;\n format datatype=dna interleave missing=? gap=-;\n matrix\n\
human ACGTACG\nchimp ACGTACG\ngorilla ACGAACG\norang RCGTYCG\n\nhuman TACGTNN\nchimp -ACGTAC\ngorilla TAC?TAC\norang TACGTAC;\nend;\n";

#[test]
fn nexus_characters_and_interleaved_data() {
    check(&parse_nexus("t.nex", NEXUS_PLAIN).unwrap());
    check(&parse_nexus("t.nex", NEXUS_INTERLEAVED).unwrap());
}

#[test]
fn nexus_quoted_names_with_spaces() {
    let text = "#NEXUS\nbegin data; dimensions ntax=3 nchar=2; matrix\n'Homo sapiens' AC\n'Pan''s' AC\nx AC\n;\nend;";
    assert_eq!(parse_nexus("t.nex", text).unwrap().taxa(), ["Homo sapiens", "Pan's", "x"]);
}

#[test]
fn nexus_malformed_inputs() {
    assert_error(parse_nexus("t.nex", "BEGIN DATA;"), &["line 1", "#NEXUS"]);
    // Wrong NCHAR (too large): the row ends early at ';'.
    assert_error(
        parse_nexus("t.nex", &NEXUS_PLAIN.replace("NCHAR=14", "NCHAR=15")),
        &["line 12", "taxon 'human'", "more than NCHAR=15", "'chimp'"],
    );
    // Wrong NCHAR (too small).
    assert_error(
        parse_nexus("t.nex", &NEXUS_INTERLEAVED.replace("nchar=14", "nchar=13")),
        &["line 13", "more than NCHAR=13"],
    );
    // Wrong NTAX.
    assert_error(
        parse_nexus("t.nex", &NEXUS_INTERLEAVED.replace("ntax=4", "ntax=3")),
        &["line 11", "more than NTAX=3", "'orang'"],
    );
    assert_error(
        parse_nexus("t.nex", &NEXUS_INTERLEAVED.replace("ntax=4", "ntax=5")),
        &["line 16", "4 rows but NTAX=5"],
    );
    // Truncated file.
    let cut = &NEXUS_INTERLEAVED[..NEXUS_INTERLEAVED.find("gorilla TAC").unwrap()];
    assert_error(parse_nexus("t.nex", cut), &["line 14", "file ends inside MATRIX begun at line 7"]);
    // Unknown character, datatype, unterminated comment, match character in the first row.
    assert_error(
        parse_nexus("t.nex", &NEXUS_INTERLEAVED.replace("gorilla TAC?", "gorilla TAC!")),
        &["line 15", "'!'", "'gorilla'"],
    );
    assert_error(
        parse_nexus("t.nex", &NEXUS_INTERLEAVED.replace("datatype=dna", "datatype=protein")),
        &["line 6", "protein"],
    );
    assert_error(
        parse_nexus("t.nex", &NEXUS_PLAIN.replace("[a comment]", "[a comment")),
        &["line 11", "unterminated comment"],
    );
    assert_error(parse_nexus("t.nex", &NEXUS_PLAIN.replace("'human'  ACG", "'human'  .CG")), &["line 11", "first row"]);
    // No matrix block; duplicate taxa; too few taxa.
    assert_error(parse_nexus("t.nex", "#NEXUS\nbegin trees;\nend;\n"), &["no DATA or CHARACTERS block"]);
    assert_error(
        parse_nexus("t.nex", &NEXUS_PLAIN.replace("gorilla", "chimp")),
        &["line 13", "duplicate taxon 'chimp'"],
    );
    let two = "#NEXUS\nbegin data; dimensions ntax=2 nchar=2; matrix a AC b AC; end;";
    assert_error(parse_nexus("t.nex", two), &["2 taxa", "at least 3"]);
}

#[test]
fn detection_by_content_then_extension() {
    let (taxa, seqs) = expected();
    for format in [Format::Fasta, Format::Phylip, Format::Nexus] {
        let text = write_alignment(&taxa, &seqs, format).unwrap();
        assert_eq!(Format::sniff(&text), Some(format));
        check(&parse_detected("no-extension", &text).unwrap());
    }
    // Unrecognised content: the extension picks the parser, which reports where it failed.
    assert_error(parse_detected("x.fasta", "hello\n>a\n"), &["x.fasta", "line 1", "before the first '>'"]);
    assert_error(parse_detected("x.txt", "hello\n"), &["unknown alignment format"]);
    assert!(write_fasta(&["a b".into()], &[b"A".to_vec()]).is_err());
}
