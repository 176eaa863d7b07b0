package iampolicy

import (
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/with:colons", true},
		{"a*", "a", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*c", "abc", true},
		{"*c", "abcd", false},
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "a-c-b", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "abbc", false},
		{"a?c", "aéc", true}, // ? is one character, not one byte
		{"?", "", false},
		{"**", "x", true},
		{"*?", "", false},
		{"*?", "x", true},
		{"dest/*", "dest/prefix/src/cfg/manifest.json", true},
		{"dest/*/manifest.json", "dest/p/s/c/2026/manifest.json", true},
		{"dest/*/manifest.json", "dest/p/s/c/data/x.csv.gz", false},
		{"Case", "case", false},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false}, // no exponential backtracking
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestMatchAction(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "s3:PutObject", true},
		{"s3:*", "s3:PutObject", true},
		{"s3:Put*", "s3:PutObject", true},
		{"s3:put*", "s3:PutObject", true},
		{"S3:PUTOBJECT", "s3:PutObject", true},
		{"s3:PutObject", "s3:putobject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"s3:PutObjectAcl", "s3:PutObject", false},
		{"s3:PutObj?ct", "s3:PutObject", true},
		{"kms:*", "s3:PutObject", false},
		{"kms:GenerateDataKey*", "kms:GenerateDataKey", true},
		{"kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", true},
		{"kms:Encrypt", "kms:GenerateDataKey", false},
	}
	for _, tt := range tests {
		if got := matchAction(tt.pattern, tt.action); got != tt.want {
			t.Errorf("matchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

func TestMatchARN(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           tri
	}{
		{"*", "arn:aws:s3:::b/k", yes},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k/with/slashes", yes},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", no},
		{"arn:aws:s3:::b*", "arn:aws:s3:::bucket/k", yes},
		{"arn:aws:s3:::b", "arn:aws:s3:::b", yes},
		{"arn:aws:s3:::b", "arn:aws:s3:::B", no}, // case-sensitive
		{"arn:aws:s3:::b", "arn:aws:s3:::bb", no},
		{"arn:aws:s3:::b?", "arn:aws:s3:::bb", yes},
		{"arn:aws:s3:*:*:b", "arn:aws:s3:::b", yes},
		{"arn:*:s3:::b", "arn:aws-us-gov:s3:::b", yes},
		{"arn:aws:s3:::b", "arn:aws-cn:s3:::b", no},
		// Segments are matched separately: a star does not cross a colon.
		{"arn:aws:s3*:b", "arn:aws:s3:::b", maybe},
		{"arn:aws:*:b", "arn:aws:s3:::b", maybe},
		{"arn:aws:kms:us-east-1:111122223333:key/*", "arn:aws:kms:us-east-1:111122223333:key/1234", yes},
		{"arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:eu-west-1:111122223333:key/1234", yes},
		{"arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:eu-west-1:444455556666:key/1234", no},
		// The resource part keeps its colons.
		{"arn:aws:logs:us-east-1:111122223333:log-group:*", "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s", yes},
		{"arn:aws:s3:::b", "not-an-arn", no},
		{"b/*", "arn:aws:s3:::b/k", maybe},
	}
	for _, tt := range tests {
		if got := matchARN(tt.pattern, tt.value); got.t != tt.want {
			t.Errorf("matchARN(%q, %q) = %v, want %v", tt.pattern, tt.value, got.t, tt.want)
		} else if got.t == maybe && got.reason == "" {
			t.Errorf("matchARN(%q, %q) undecided without a reason", tt.pattern, tt.value)
		}
	}
}
