module ember.test/runtime

go 1.19
