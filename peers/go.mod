module github.com/ssokit/ssokit/peers

go 1.26.0

require github.com/ssokit/ssokit v0.0.0-00010101000000-000000000000

replace github.com/ssokit/ssokit => ../
