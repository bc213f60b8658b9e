package report
import ("testing";"os";"strings")
func TestDbg(t *testing.T){ for _,f:=range strings.Fields(os.Getenv("F")){ raw,_:=os.ReadFile("testdata/bounces/maildir/"+f); ex:=ExplainInput(raw,ExplainOptions{}); for _,r:=range ex.Replies{t.Logf("-> %q %s %d %s %q", r.Recipient, r.Reason, r.Code, r.Entry, pstCap(r.Reply,200))}}}
