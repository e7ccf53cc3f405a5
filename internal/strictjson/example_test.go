package strictjson_test

import (
	"fmt"

	"github.com/ssokit/ssokit/internal/strictjson"
)

func ExampleCheckObject() {
	fmt.Println(strictjson.CheckObject([]byte(`{"sub":"usr_1","role":"viewer"}`)))
	fmt.Println(strictjson.CheckObject([]byte(`{"role":"viewer","ROLE":"admin"}`)))
	// Output:
	// <nil>
	// strictjson: members "role" and "ROLE" differ only in case
}
