module ember.example/hello-go

go 1.19
