package main

// maxEcho is the longest value an error message repeats from an event.
const maxEcho = 40

// echo shortens a value from an event (a Lambda payload, a widget's
// params) for an error message: untrusted input never makes an error
// long.
func echo(s string) string {
	if r := []rune(s); len(r) > maxEcho {
		return string(r[:maxEcho-1]) + "…"
	}
	return s
}
