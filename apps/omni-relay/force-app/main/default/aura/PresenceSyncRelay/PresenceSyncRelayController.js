({
    onScriptsLoaded: function (cmp, event, helper) {
        helper.start(cmp);
    },

    onDestroy: function (cmp, event, helper) {
        helper.stop(cmp);
    },

    onOmniLogin: function (cmp, event, helper) {
        helper.trackOmni(cmp, event.getParam('statusId') || null);
    },

    onOmniStatusChanged: function (cmp, event, helper) {
        helper.trackOmni(cmp, event.getParam('statusId') || null);
    },

    onOmniLogout: function (cmp, event, helper) {
        helper.trackOmni(cmp, null);
    }
})
