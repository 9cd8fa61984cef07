package consistency

import (
	"context"
	"testing"
)

func TestParseLSN(t *testing.T) {
	tests := []struct {
		give    string
		want    LSN
		wantErr bool
	}{
		{give: "0/0", want: 0},
		{give: "16/B374D848", want: 0x16_B374D848},
		{give: "ffffffff/ffffffff", want: 1<<64 - 1},
		{give: "", wantErr: true},
		{give: "16", wantErr: true},
		{give: "/1", wantErr: true},
		{give: "1/", wantErr: true},
		{give: "123456789/0", wantErr: true},
		{give: "-1/0", wantErr: true},
		{give: "+1/0", wantErr: true},
		{give: "g/0", wantErr: true},
		{give: "1/2/3", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLSN(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLSN(%q) = %v, %v; want %v, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMinLSNKeepsTheLargest(t *testing.T) {
	ctx := WithMinLSN(context.Background(), 10)
	ctx = WithMinLSN(ctx, 5)
	if got := MinLSN(ctx); got != 10 {
		t.Errorf("MinLSN = %v, want 10", got)
	}
	if got := MinLSN(WithMinLSN(ctx, 11)); got != 11 {
		t.Errorf("MinLSN = %v, want 11", got)
	}
}

// FuzzParseLSN checks that any accepted token formats back to an equal value
// and that parsing never panics.
func FuzzParseLSN(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "", "1/", "/", "0x1/2", "1/2/3", "\x00/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLSN(s)
		if err != nil {
			return
		}
		back, err := ParseLSN(l.String())
		if err != nil || back != l {
			t.Fatalf("ParseLSN(%q) = %v, but its String %q parses to %v, %v", s, l, l.String(), back, err)
		}
	})
}
