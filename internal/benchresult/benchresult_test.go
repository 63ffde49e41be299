package benchresult

import "testing"

func TestSig3(t *testing.T) {
	for v, want := range map[float64]string{1234.5: "1234", 123.4: "123", 12.34: "12.3", 1.234: "1.23", -12.34: "-12.3"} {
		if got := Sig3(v); got != want {
			t.Errorf("Sig3(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestRateScale(t *testing.T) {
	for v, want := range map[float64]string{2.5e6: " M/s", 4200: " k/s", 12: " /s"} {
		if _, got := RateScale(v); got != want {
			t.Errorf("RateScale(%v) suffix = %q, want %q", v, got, want)
		}
	}
}
