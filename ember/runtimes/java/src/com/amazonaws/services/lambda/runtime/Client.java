package com.amazonaws.services.lambda.runtime;

/** The mobile application that invoked the function, as its SDK described it. */
public interface Client {
    String getInstallationId();

    String getAppTitle();

    String getAppVersionName();

    String getAppVersionCode();

    String getAppPackageName();
}
